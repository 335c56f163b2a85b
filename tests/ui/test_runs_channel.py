"""Issue 18: the kernel's side of the runs sidebar, a comm fed by the runtime's events only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from deepsearch_nb._ui._runs_channel import TARGET, RunsChannel
from deepsearch_nb.agents import report_usage
from deepsearch_nb.runtime import RunManager, RunState
from deepsearch_nb.testing import ScriptedAgent, clarification, report_round


class FakeComm:
    """What ``comm.create_comm`` returns, recording what the kernel sends."""

    def __init__(self, target_name: str, data: dict[str, Any]) -> None:
        self.target_name = target_name
        self.sent: list[dict[str, Any]] = []
        self.handler: Callable[[dict[str, Any]], None] | None = None

    def send(self, data: dict[str, Any]) -> None:
        self.sent.append(data)

    def on_msg(self, handler: Callable[[dict[str, Any]], None]) -> None:
        self.handler = handler

    def on_close(self, handler: Callable[[Any], None]) -> None:
        pass

    def receive(self, data: dict[str, Any]) -> None:
        assert self.handler is not None
        self.handler({"content": {"data": data}})

    def runs(self) -> list[dict[str, Any]]:
        return [s for s in self.sent if "runs" in s][-1]["runs"]  # type: ignore[no-any-return]


async def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def _factory(comms: list[FakeComm], kind: type[FakeComm] = FakeComm) -> Callable[..., FakeComm]:
    def create(**kwargs: Any) -> FakeComm:
        comms.append(kind(**kwargs))
        return comms[-1]

    return create


async def test_a_waiting_run_is_announced_and_answered_from_the_sidebar(manager: RunManager) -> None:
    comms: list[FakeComm] = []
    channel = RunsChannel(create_comm=_factory(comms))
    agent = ScriptedAgent(clarification(), report_round(["Costs fell."]))
    run = manager.start(agent, "What about storage?")
    channel.track(run, "cell-1")
    (comm,) = comms
    assert comm.target_name == TARGET
    await run.until_settled(timeout=30)
    await _until(lambda: comm.runs()[0]["state"] == "WAITING_USER_INPUT")
    waiting = comm.runs()[0]
    assert waiting["cell_id"] == "cell-1" and waiting["question"] == "What about storage?"
    assert waiting["pending"]["stage"] == "clarification" and "Which region?" in waiting["pending"]["questions"]
    assert waiting["stage"] == "waiting for your answer"
    comm.receive({"action": "answer", "key": run.key, "answer": "Europe"})
    await run.wait(timeout=30)
    await _until(lambda: comm.runs()[0]["state"] == "COMPLETED")


async def test_cancel_from_the_sidebar_cancels_the_run(manager: RunManager) -> None:
    comms: list[FakeComm] = []
    channel = RunsChannel(create_comm=_factory(comms))
    run = manager.start(ScriptedAgent(clarification()), "q")
    channel.track(run)
    await run.until_settled(timeout=30)
    comms[0].receive({"action": "cancel", "key": run.key})
    await run.wait(timeout=30)
    assert run.state == RunState.CANCELLED
    await _until(lambda: comms[0].runs()[0]["state"] == "CANCELLED")
    comms[0].receive({"action": "answer", "key": run.key, "answer": "late"})  # the run is over: said, not raised
    assert any("error" in s for s in comms[0].sent)


async def test_a_front_end_without_the_extension_is_not_asked_again(manager: RunManager) -> None:
    """It closes the comm unanswered (no target); the next run opens none, so it logs no error per run."""
    comms: list[FakeComm] = []
    closers: list[Callable[[Any], None]] = []

    class ClosedComm(FakeComm):
        def on_close(self, handler: Callable[[Any], None]) -> None:
            closers.append(handler)

    channel = RunsChannel(create_comm=_factory(comms, ClosedComm))
    first = manager.start(ScriptedAgent(report_round(["Done."])), "q1")
    channel.track(first)
    closers[0]({})  # the front end closed it at once
    second = manager.start(ScriptedAgent(report_round(["Done."])), "q2")
    channel.track(second)
    assert len(comms) == 1
    await first.wait(timeout=30)
    await second.wait(timeout=30)


class _CostlyAgent:
    """Reports 100 + 20 tokens, then writes a short report."""

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Any = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> Any:
        report_usage("plan", 100, 20)
        for chunk in report_round(["Done."]):
            yield chunk


async def test_tokens_are_shown_where_the_agent_reports_them(manager: RunManager) -> None:
    comms: list[FakeComm] = []
    channel = RunsChannel(create_comm=_factory(comms))
    run = manager.start(_CostlyAgent(), "q")
    channel.track(run)
    await run.wait(timeout=30)
    await _until(lambda: comms[0].runs()[0]["state"] == "COMPLETED")
    assert comms[0].runs()[0]["tokens"] == 120
    plain = manager.start(ScriptedAgent(report_round(["Done."])), "q2")
    channel.track(plain)
    await plain.wait(timeout=30)
    await _until(lambda: comms[0].runs()[1]["state"] == "COMPLETED")
    assert comms[0].runs()[1]["tokens"] is None  # no usage reported: unknown, not zero

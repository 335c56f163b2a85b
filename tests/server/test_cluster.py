"""Two team servers sharing a real Redis: rounds that alternate between them, cancels across them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import pytest

from deepsearch_nb import RemoteAgent, RunState
from deepsearch_nb.agents import DEMO_ANSWERS, DEMO_QUESTION, ChunkLike
from deepsearch_nb.runtime import ChunkReceived, RunManager

from ._support import TOKEN, ServerProcess, post, wait_until

pytestmark = pytest.mark.redis

NO_HITL = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}


class Alternating:
    """One conversation whose rounds go to the servers in turn (a load balancer at its least kind)."""

    kind = "remote"

    def __init__(self, agents: Sequence[RemoteAgent]) -> None:
        self.agents = list(agents)
        self.served: list[int] = []

    def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[ChunkLike]:
        index = len(self.served) % len(self.agents)
        self.served.append(index)
        return self.agents[index].run(message, conversation_id, agent_config, report_template, interrupt_feedback)

    async def cancel_tasks(self, conversation_id: str) -> None:
        await self.agents[self.served[-1]].cancel_tasks(conversation_id)

    async def cleanup_session(self, conversation_id: str) -> None:
        for agent in self.agents:
            await agent.cleanup_session(conversation_id)

    async def aclose(self) -> None:
        for agent in self.agents:
            await agent.aclose()


async def _research(agent: Any, conversation_id: str) -> Any:
    manager = RunManager(cancel_grace_s=1.0)
    run = manager.start(agent, DEMO_QUESTION, conversation_id=conversation_id, space_id="team")
    for answer in DEMO_ANSWERS:
        assert await asyncio.wait_for(run.until_settled(), 30) is RunState.WAITING_USER_INPUT, run.error
        run.submit(answer)
    await asyncio.wait_for(run.wait(), 60)
    await manager.drain(5)
    return run


def _idle(server: ServerProcess) -> bool:
    health = server.health()
    return (health["live_runs"], health["paused_sessions"], health["open_streams"]) == (0, 0, 0)


async def test_a_hitl_research_alternating_between_two_workers_ends_with_the_same_report(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = pair
    alone = RemoteAgent(a.url, space_id="team", token=TOKEN)
    both = Alternating(
        [RemoteAgent(a.url, space_id="team", token=TOKEN), RemoteAgent(b.url, space_id="team", token=TOKEN)]
    )
    try:
        single = await _research(alone, "conv_single")
        shared = await _research(both, "conv_shared")
    finally:
        await alone.aclose()
        await both.aclose()
    assert single.state is RunState.COMPLETED, single.error
    assert shared.state is RunState.COMPLETED, shared.error
    assert both.served == [0, 1, 0, 1]  # question on A, clarification answer on B, revision on A, accept on B
    assert shared.report_markdown.replace("conv_shared", "X") == single.report_markdown.replace("conv_single", "X")
    assert "[citation:1]" in shared.report_markdown
    # Each held stream was closed by the worker that held it when the other one took the answer.
    await wait_until(lambda: _idle(a) and _idle(b))
    assert "resumed from worker" in b.log() and "resumed from worker" in a.log()
    assert "conv_shared handed over to worker" in a.log() + b.log()


async def test_a_cancel_sent_to_b_reaches_the_run_streaming_on_a(pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = pair
    agent = RemoteAgent(a.url, space_id="team", token=TOKEN)
    manager = RunManager(cancel_grace_s=1.0)
    try:
        run = manager.start(agent, DEMO_QUESTION, conversation_id="conv_cancel", space_id="team", agent_config=NO_HITL)
        writing = asyncio.Event()
        run.subscribe(
            lambda e: writing.set() if isinstance(e, ChunkReceived) and e.chunk.agent == "sub_reporter" else None
        )
        await asyncio.wait_for(writing.wait(), 30)
        answer = await post(
            b.url,
            {"space_id": "team", "conversation_id": "conv_cancel", "message": "", "interrupt_feedback": "cancel"},
            b.headers,
        )
        assert answer.json() == {"status": "forwarded", "space_id": "team", "conversation_id": "conv_cancel"}
        await asyncio.wait_for(run.wait(), 10)
        assert run.state is RunState.CANCELLED
        assert run.chunks[-1].is_cancel  # A's stream itself ended with the cancel chunk
        assert "the agent reported the run cancelled" in (run.cancel_reason or "")
    finally:
        await manager.aclose(5)
        await agent.aclose()
    await wait_until(lambda: _idle(a))


async def test_a_paused_run_is_cancelled_from_the_other_worker(pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = pair
    body = {"space_id": "team", "conversation_id": "conv_paused", "message": DEMO_QUESTION}
    url = a.url + "/api/v1/agent/deepsearch/run/"
    client = httpx.AsyncClient(timeout=30)
    async with client, client.stream("POST", url, json=body, headers=a.headers) as held:
        lines = held.aiter_lines()
        async for line in lines:
            if "waiting_user_input" in line:
                break
        assert a.health()["paused_sessions"] == 1
        cancel = await post(b.url, {**body, "message": "", "interrupt_feedback": "cancel"}, b.headers)
        assert cancel.json()["status"] == "forwarded"
        rest = [json.loads(line[5:]) async for line in lines if line.startswith("data:")]
    assert [c["event"] for c in rest] == ["cancel"]
    await wait_until(lambda: _idle(a))
    # Cancelled everywhere: an answer for it now is refused on both workers.
    for server in (a, b):
        late = await post(server.url, {**body, "message": "x", "interrupt_feedback": "accepted"}, server.headers)
        assert late.status_code == 409


async def test_a_client_that_disconnects_mid_round_cancels_but_a_held_question_stays_resumable(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = pair
    running = {"space_id": "team", "conversation_id": "conv_gone", "message": DEMO_QUESTION, **NO_HITL}
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", a.url + "/api/v1/agent/deepsearch/run/", json=running, headers=a.headers) as resp,
    ):
        async for line in resp.aiter_lines():
            if "sub_reporter" in line:
                break
    await wait_until(lambda: _idle(a))  # the run was cancelled when its client went away
    assert "conv_gone ended CANCELLED" in a.log()

    paused = {"space_id": "team", "conversation_id": "conv_left", "message": DEMO_QUESTION}
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", a.url + "/api/v1/agent/deepsearch/run/", json=paused, headers=a.headers) as resp,
    ):
        async for line in resp.aiter_lines():
            if "waiting_user_input" in line:
                break
    await asyncio.sleep(0.2)
    assert a.health()["paused_sessions"] == 1  # closing a held stream leaves the question open
    agent = RemoteAgent(b.url, space_id="team", token=TOKEN)
    manager = RunManager(cancel_grace_s=1.0)
    try:
        # B takes the answer of the question A asked, and goes on to the outline review.
        run = manager.start(
            _AnswerFirst(agent, DEMO_ANSWERS[0]), "(resumed)", conversation_id="conv_left", space_id="team"
        )
        assert await asyncio.wait_for(run.until_settled(), 30) is RunState.WAITING_USER_INPUT
        assert run.pending is not None and run.pending.outline is not None
        run.cancel()
        await run
    finally:
        await manager.aclose(5)
        await agent.aclose()
    await wait_until(lambda: _idle(a) and _idle(b))


class _AnswerFirst:
    """Sends its first round as an answer (a notebook reconnecting to a conversation it left open)."""

    kind = "remote"

    def __init__(self, agent: RemoteAgent, answer: str) -> None:
        self.agent = agent
        self.answer: str | None = answer

    def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Any = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[ChunkLike]:
        if self.answer is not None:
            message, interrupt_feedback, self.answer = self.answer, "accepted", None
        return self.agent.run(message, conversation_id, agent_config, report_template, interrupt_feedback)

    async def cancel_tasks(self, conversation_id: str) -> None:
        await self.agent.cancel_tasks(conversation_id)

    async def cleanup_session(self, conversation_id: str) -> None:
        await self.agent.cleanup_session(conversation_id)


def test_logs_name_the_worker_of_each_round_and_never_a_key(pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = pair
    key = "sk-test-never-logged-5e1d"
    body = {
        "space_id": "team",
        "conversation_id": "conv_key",
        "message": DEMO_QUESTION,
        **NO_HITL,
        "llm_config": {"model_name": "m", "api_key": key},
    }
    with httpx.stream(
        "POST", a.url + "/api/v1/agent/deepsearch/run/", json=body, headers=a.headers, timeout=30
    ) as resp:
        chunks = [line for line in resp.iter_lines() if line.startswith("data:")]
    assert '"ALL END"' in chunks[-1]
    logs = a.log()
    assert "round 1 of team:conv_key (a new question)" in logs and "team:conv_key ended COMPLETED" in logs
    assert key not in logs and key not in b.log() and TOKEN not in logs

"""Cancelling the real SDK: at several points of the final round, and by its consumer at a pause.

After each cancel: the run is CANCELLED (not abandoned), every SDK store of the conversation is empty
(:meth:`OpenJiuwenAgent.sdk_sessions`), no asyncio task is left, and no LLM request started after the
cancel (``record_http_sends``: the moment each request reached httpcore's pool, on ``time.monotonic()``,
against the moment ``cancel()`` was called).
"""

from __future__ import annotations

import json
import time

import pytest

from deepsearch_nb import RunState
from deepsearch_nb.runtime import ChunkReceived, Run, RunEvent, RunManager
from deepsearch_nb.testing import HttpSends, StubLLM, tasks_left

from ._sdk_support import (
    QUESTION,
    SDK_MARKS,
    guard,
    key,
    llm,
    make_agent,
    no_request_after,
    sends,
    workdir,
)

__all__ = ["guard", "key", "llm", "sends", "workdir"]  # fixtures used by name
pytestmark = SDK_MARKS


async def _to_final_round(run: Run) -> None:
    for answer in ("Focus on costs.", "accept"):
        assert await run.until_settled(120) is RunState.WAITING_USER_INPUT, run.error
        run.submit(answer)


@pytest.mark.parametrize(
    ("agent_name", "nth"),
    [("plan_reasoning", 1), ("collector_info_retrieval", 1), ("sub_reporter", 3), ("end", 1)],
    ids=["planning", "collecting", "writing", "section-end"],
)
async def test_cancel_during_the_final_round(
    manager: RunManager, llm: StubLLM, sends: HttpSends, key: str, agent_name: str, nth: int
) -> None:
    agent = make_agent(llm)
    run = manager.start(agent, QUESTION)
    await _to_final_round(run)
    cancelled_at: list[float] = []
    seen = 0

    def on_event(event: RunEvent) -> None:
        nonlocal seen
        if isinstance(event, ChunkReceived) and event.chunk.agent == agent_name and not cancelled_at:
            seen += 1
            if seen == nth:
                cancelled_at.append(time.monotonic())
                run.cancel()

    run.subscribe(on_event)
    await run.wait(60)
    assert cancelled_at, f"no {agent_name} chunk arrived"
    assert run.state is RunState.CANCELLED and not run.abandoned
    assert not run.progress.all_end
    await manager.drain(10)
    no_request_after(sends, cancelled_at[0])
    assert await tasks_left() == []  # then a late SDK save would have landed
    assert agent.sdk_sessions(run.conversation_id) == []


@pytest.mark.parametrize("stage", ["clarification", "outline_review"])
async def test_cancel_by_answer_right_at_a_pause(
    manager: RunManager, llm: StubLLM, sends: HttpSends, key: str, stage: str
) -> None:
    agent = make_agent(llm)
    run = manager.start(agent, QUESTION)
    if stage == "outline_review":
        assert await run.until_settled(120) is RunState.WAITING_USER_INPUT
        run.submit("Focus on costs.")
    assert await run.until_settled(120) is RunState.WAITING_USER_INPUT
    assert run.pending is not None and run.pending.stage.value == stage
    cancelled_at = time.monotonic()
    run.submit("cancel")
    await run.wait(10)
    assert run.state is RunState.CANCELLED
    await manager.drain(10)
    no_request_after(sends, cancelled_at)
    assert await tasks_left() == []
    assert agent.sdk_sessions(run.conversation_id) == []


async def test_a_consumer_that_stops_at_the_pause_still_gets_the_round_saved(llm: StubLLM, key: str) -> None:
    """Finding 1: closed right at the interrupt, the adapter lets the SDK's round finish its save, so the
    conversation resumes, and a release right after it leaves no store behind."""
    agent = make_agent(llm)
    stream = agent.run(QUESTION, "stop_at_pause")
    async for raw in stream:
        assert isinstance(raw, str)
        if json.loads(raw)["message_type"] == "interrupt":
            break
    await stream.aclose()  # type: ignore[attr-defined]  # what a consumer that stops at the question does
    assert "checkpointer._graph_store.store_ck" in agent.sdk_sessions("stop_at_pause")  # the save has landed
    resumed = [json.loads(str(c)) async for c in agent.run("Focus on costs.", "stop_at_pause", None, "", "accepted")]
    assert resumed[-1]["agent"] == "outline_interaction" and resumed[-1]["message_type"] == "interrupt"
    await agent.cleanup_session("stop_at_pause")
    assert await tasks_left() == []
    assert agent.sdk_sessions("stop_at_pause") == []


async def test_an_evicted_pause_releases_every_store(llm: StubLLM, key: str) -> None:
    manager = RunManager(hitl_capacity=1, cancel_grace_s=10.0)
    agent = make_agent(llm)
    first = manager.start(agent, QUESTION)
    assert await first.until_settled(120) is RunState.WAITING_USER_INPUT
    assert agent.sdk_sessions(first.conversation_id)  # the paused session is held ...
    second = manager.start(agent, QUESTION)
    assert await second.until_settled(120) is RunState.WAITING_USER_INPUT
    await first.wait(10)
    assert first.state is RunState.CANCELLED  # ... until a newer pause evicts it
    await manager.drain(10)
    assert agent.sdk_sessions(first.conversation_id) == []
    await manager.aclose(10)
    assert await tasks_left() == []
    assert agent.sdk_sessions(second.conversation_id) == []

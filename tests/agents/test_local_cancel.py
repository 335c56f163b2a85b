"""Cancellation of the local agent at every stage: cooperative (``cancel_context``) and ``task.cancel()``.

Whatever the stage, the ``CancelledError`` reaches the caller, the conversation is no longer marked as
running, no task is left behind, and the conversation stays at its previous question (its checkpoint),
from where the same answer gives the same round again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from deepsearch_nb import LocalResearchAgent
from deepsearch_nb.agents import DEMO_ANSWERS, DEMO_QUESTION, cancel_context

from ._support import other_tasks, run_round, run_script, scripted

ROUNDS = [("", DEMO_QUESTION), *scripted(DEMO_ANSWERS)]


async def _replay(agent: LocalResearchAgent, cid: str, upto: int) -> None:
    """Play the demo script's first ``upto`` rounds."""
    for feedback, message in ROUNDS[:upto]:
        await run_round(agent, message, cid, feedback)


async def _reference_lengths() -> list[int]:
    rounds = await run_script(LocalResearchAgent(), "reference")
    return [len(r.chunks) for r in rounds]


def _cut_points(length: int) -> list[int]:
    """Where to cancel: before the first chunk, after the first, in the middle, before the last."""
    return sorted({0, 1, length // 3, length // 2, length - 1})


@pytest.mark.parametrize("round_no", range(len(ROUNDS)))
async def test_cancel_event_at_every_stage(round_no: int) -> None:
    lengths = await _reference_lengths()
    for cut in _cut_points(lengths[round_no]):
        agent = LocalResearchAgent()
        cid = f"cancel_{round_no}_{cut}"
        await _replay(agent, cid, round_no)
        pending_before = agent.pending_conversations()
        feedback, message = ROUNDS[round_no]
        event = asyncio.Event()
        token = cancel_context.set(event)
        received = 0
        gen = agent.run(message, cid, interrupt_feedback=feedback)
        try:
            with pytest.raises(asyncio.CancelledError):
                async for _ in _with_cut(gen, cut, event):
                    received += 1
        finally:
            cancel_context.reset(token)
            await gen.aclose()
        assert received == cut
        assert agent.running_conversations() == ()
        assert agent.pending_conversations() == pending_before  # back at the previous question
        assert other_tasks() == []
        # The same answer gives the whole round, as if nothing had happened.
        again = await run_round(agent, message, cid, feedback)
        assert len(again.chunks) == lengths[round_no]
        await agent.cleanup_session(cid)
        assert agent.pending_conversations() == ()


async def _with_cut(gen: AsyncIterator[str], cut: int, event: asyncio.Event) -> AsyncIterator[str]:
    """Yield ``cut`` chunks, then set the cancel event before asking for the next one."""
    if cut == 0:
        event.set()
    count = 0
    async for chunk in gen:
        yield chunk
        count += 1
        if count == cut:
            event.set()


async def test_cancel_event_already_set_stops_before_the_first_chunk(agent: LocalResearchAgent) -> None:
    event = asyncio.Event()
    event.set()
    token = cancel_context.set(event)
    try:
        with pytest.raises(asyncio.CancelledError):
            await anext(aiter(agent.run(DEMO_QUESTION, "preset")))
    finally:
        cancel_context.reset(token)
    assert agent.running_conversations() == () and agent.pending_conversations() == ()


@pytest.mark.parametrize("round_no", [0, len(ROUNDS) - 1])
async def test_task_cancel_mid_stream(round_no: int) -> None:
    agent = LocalResearchAgent(pacing=0.002)
    await _replay(agent, "task_cancel", round_no)
    pending_before = agent.pending_conversations()
    feedback, message = ROUNDS[round_no]
    received: list[str] = []
    started = asyncio.Event()

    async def consume() -> None:
        async for chunk in agent.run(message, "task_cancel", interrupt_feedback=feedback):
            received.append(chunk)
            if len(received) == 3:
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 3 <= len(received) < 30
    assert agent.running_conversations() == ()
    assert agent.pending_conversations() == pending_before
    assert other_tasks() == []


async def test_pacing_slows_the_stream_and_cancel_lands_between_tokens() -> None:
    agent = LocalResearchAgent(pacing=0.05)
    task = asyncio.create_task(run_round(agent, DEMO_QUESTION, "paced"))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert agent.running_conversations() == ()


async def test_consumer_that_stops_at_the_interrupt_can_resume_at_once(agent: LocalResearchAgent) -> None:
    """Stopping at the interrupt without draining (and without aclose) must not block the resume."""
    gen = agent.run(DEMO_QUESTION, "stop_early")
    async for chunk in gen:
        if '"interrupt"' in chunk:
            break
    assert agent.pending_conversations() == ("stop_early",) and agent.running_conversations() == ()
    rnd = await run_round(agent, "costs", "stop_early", "accepted")
    assert rnd.last["agent"] == "outline_interaction"
    await gen.aclose()
    assert agent.pending_conversations() == ("stop_early",)


async def test_abandoned_generator_releases_the_running_mark(agent: LocalResearchAgent) -> None:
    gen = agent.run(DEMO_QUESTION, "abandoned")
    await anext(gen)
    assert agent.running_conversations() == ("abandoned",)
    await gen.aclose()
    assert agent.running_conversations() == () and agent.pending_conversations() == ()


async def test_cleanup_session_releases_a_pending_conversation(agent: LocalResearchAgent) -> None:
    await run_round(agent, DEMO_QUESTION, "cleanup")
    assert agent.pending_conversations() == ("cleanup",)
    await agent.cleanup_session("cleanup")
    await agent.cleanup_session("cleanup")  # twice is fine
    await agent.cleanup_session("never-seen")  # unknown ids too
    assert agent.pending_conversations() == ()
    rnd = await run_round(agent, "", "cleanup", "accepted")  # nothing to resume any more
    assert rnd.chunks[0]["agent"] == "framework"


async def test_cancel_during_a_round_does_not_disturb_other_conversations(agent: LocalResearchAgent) -> None:
    await run_round(agent, DEMO_QUESTION, "other")
    event = asyncio.Event()
    token = cancel_context.set(event)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            async for _ in agent.run(DEMO_QUESTION, "victim"):
                event.set()
    finally:
        cancel_context.reset(token)
    assert agent.pending_conversations() == ("other",)

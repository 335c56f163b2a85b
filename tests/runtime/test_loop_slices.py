"""The loop gets a turn after every short slice of stream work (issue 16, ``bench loop``).

An agent that never suspends is read in slices: after about a millisecond of continuous work the producer
yields to the loop. These tests count interleavings, not milliseconds: another task (``_Spinner``, which
only yields) records how many chunks went by between two of its turns. In the first, each chunk costs a
known time on the slice's clock (a fake clock the listener advances), so the assertion is about work
between two turns, whatever the machine's load. Before the fix the producer looked at its clock every 64
chunks and yielded after 4 ms (64 chunks of 0.1 ms here); a stepped run never yielded while it streamed,
nor did the reading of chunks after the ending chunk (whose grace is a timer that then never fired).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from deepsearch_nb._runtime import _producer
from deepsearch_nb.runtime import ChunkReceived, RunEvent, RunManager, RunState
from deepsearch_nb.testing import ScriptedAgent, many_chunks

CHUNK_COST_S = 0.0001  # what each chunk costs on the slice's (fake) clock


class _Spinner:
    """A task that only yields: at each of its turns it notes how many chunks the run had received."""

    def __init__(self) -> None:
        self.chunks = 0
        self.turns: list[int] = []
        self._stop = False
        self._task = asyncio.create_task(self._spin())

    def on_event(self, event: RunEvent) -> None:
        if isinstance(event, ChunkReceived):
            self.chunks += 1

    async def _spin(self) -> None:
        while not self._stop:
            await asyncio.sleep(0)
            self.turns.append(self.chunks)

    async def stop(self) -> list[int]:
        """Chunks received between two turns, for every turn during the stream."""
        self._stop = True
        await self._task
        inside = [n for n in self.turns if 0 < n < self.chunks]
        return [b - a for a, b in itertools.pairwise(inside) if b > a]


async def test_a_stream_that_never_suspends_gives_the_loop_a_turn_after_each_millisecond_of_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(_producer, "_clock", lambda: now[0])
    spinner = _Spinner()

    def cost(event: RunEvent) -> None:
        if isinstance(event, ChunkReceived):
            now[0] += CHUNK_COST_S  # the panel's work on this chunk, as the slice's clock sees it

    run = RunManager().start(ScriptedAgent(many_chunks(2_000, size=20)), "Flood?")
    run.subscribe(cost)
    run.subscribe(spinner.on_event)
    await asyncio.wait_for(run.wait(), 30)
    gaps = await spinner.stop()
    assert run.state is RunState.COMPLETED
    worst_s = max(gaps, default=0) * CHUNK_COST_S
    assert worst_s <= 0.002, f"{max(gaps)} chunks ({worst_s * 1000:.1f} ms of work) between two turns of the loop"
    assert len(gaps) > 50, gaps  # turns throughout the stream, not only at its start


async def test_a_stepped_run_streaming_between_two_boundaries_gives_the_loop_turns() -> None:
    # many_chunks has no boundary before its final report: the stepped stream floods up to that pause.
    spinner = _Spinner()
    run = RunManager().start(ScriptedAgent(many_chunks(20_000, size=20)), "Flood?", step=True)
    run.subscribe(spinner.on_event)
    state = await asyncio.wait_for(run.until_settled(), 30)
    assert state is RunState.WAITING_USER_INPUT and run.pending is not None and run.pending.stage == "step"
    run.cancel()
    await asyncio.wait_for(run.wait(), 10)
    gaps = await spinner.stop()
    assert len(gaps) > 1, f"the loop had {len(gaps)} turns while {spinner.chunks} chunks streamed"


class _LateFlood:
    """An agent that yields its report, ALL END, then ``late`` more chunks, never suspending."""

    kind = "handwritten"

    def __init__(self, late: int) -> None:
        self.late = late
        self.taken_after_end = 0

    async def run(self, *_args: object, **_kwargs: object) -> AsyncIterator[str]:
        for raw in many_chunks(10, size=20):
            yield raw
        for raw in itertools.repeat(many_chunks(1, size=20)[0], self.late):
            self.taken_after_end += 1
            yield raw

    async def cleanup_session(self, conversation_id: str) -> None:
        pass

    async def cancel_tasks(self, conversation_id: str) -> None:
        pass


async def test_chunks_after_the_end_that_never_suspend_are_cut_at_the_end_grace() -> None:
    # The round is over at ALL END; the stream is read on for at most end_grace_s (the SDK saves its
    # checkpoint then). That bound is a timer: it never fired while the late chunks held the loop, so
    # all of them were read, however many (an endless one would have held the kernel for ever).
    agent = _LateFlood(late=500_000)
    spinner = _Spinner()
    run = RunManager(end_grace_s=0.05).start(agent, "Flood after the end?")
    run.subscribe(spinner.on_event)
    await asyncio.wait_for(run.wait(), 60)
    gaps = await spinner.stop()
    assert run.state is RunState.COMPLETED
    assert agent.taken_after_end < agent.late, "every late chunk was read: the grace never cut the stream"
    assert any("did not end within" in notice.message for notice in run.notices), run.notices
    assert gaps, "the loop had no turn while the late chunks were read"

"""How long a Cancel takes, clicked on another thread, until the run is CANCELLED with its cleanup done.

* ``cancel_ms_p50`` / ``cancel_ms_p99``: ``RUNS`` runs of an agent that yields a chunk about every
  millisecond (an LLM streaming tokens); after a few chunks (5 to 24, varied) a worker thread, as a kernel
  subshell's click would, calls ``run.cancel()``. Timed from just before that call (on the thread) to the
  moment the run turns CANCELLED, which the manager does only after the agent's task has stopped and its
  session cleanup has returned. Target: p99 <= 50 ms.
* ``cancel_stuck_ms_p99``: ``STUCK_RUNS`` runs of an agent blocked in a long await that ignores the cancel
  event *and* swallows the task's cancellation: the cancel can only end the run by abandoning the agent's
  task after the manager's ``cancel_grace_s`` (``cancel_grace_ms`` here). Target: the grace + 50 ms.

The chunks are counted by a subscriber, as the panel counts them; a run that is not CANCELLED, or a
manager with bookkeeping left after its runs, makes the benchmark fail instead of printing a figure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from typing import Any

from ..runtime import ChunkReceived, RunEvent, RunManager, RunState, StateChanged
from ..testing import IgnoreCancel, Pause, ScriptedAgent, many_chunks
from ._stats import percentile

__all__ = ["LABELS", "run"]

RUNS = 200
STUCK_RUNS = 20
GRACE_S = 0.25
_CHUNKS_PER_RUN = 2_000  # far more than a run lives to see: the agent is still streaming when cancelled

LABELS = {
    "cancel_runs": "cancelled runs of an agent yielding about every ms",
    "cancel_ms_p50": "cancel on another thread -> CANCELLED, cleanup done (ms, p50)",
    "cancel_ms_p99": "the same (ms, p99; target <= 50)",
    "cancel_ms_max": "the same (ms, max)",
    "cancel_stuck_runs": "cancelled runs of an agent that ignores the event and the task's cancel",
    "cancel_grace_ms": "the manager's cancel_grace_s for those (ms)",
    "cancel_stuck_ms_p99": "cancel -> CANCELLED, agent abandoned (ms, p99; target <= grace + 50)",
}


async def _cancel_once(
    manager: RunManager, script: list[Any], after: int, pool: concurrent.futures.Executor, name: str
) -> float:
    loop = asyncio.get_running_loop()
    run = manager.start(ScriptedAgent(script), "bench", conversation_id=name)
    reached = asyncio.Event()
    ended: list[float] = []
    seen = 0

    def on_event(event: RunEvent) -> None:
        nonlocal seen
        if isinstance(event, ChunkReceived):
            seen += 1
            if seen == after:
                reached.set()
        elif isinstance(event, StateChanged) and event.state is RunState.CANCELLED:
            ended.append(time.perf_counter())

    run.subscribe(on_event)
    await asyncio.wait_for(reached.wait(), 30)

    def click() -> float:  # the subshell thread: time first, then the call (which hops onto the loop)
        t0 = time.perf_counter()
        run.cancel()
        return t0

    t0 = await loop.run_in_executor(pool, click)
    await run.wait(30)
    if run.state is not RunState.CANCELLED or not ended:
        raise RuntimeError(f"the cancel did not land: {run.state.value} after {seen} chunks")
    return (ended[0] - t0) * 1000


def _streaming_script(chunks: int) -> list[Any]:
    script: list[Any] = []
    for item in many_chunks(chunks):
        script += [Pause(0.001), item]
    return script


async def _measure(runs: int, stuck_runs: int, grace_s: float) -> dict[str, Any]:
    streaming = _streaming_script(_CHUNKS_PER_RUN)
    manager = RunManager(cancel_grace_s=grace_s)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bench-click") as pool:
        times = [await _cancel_once(manager, streaming, 5 + i % 20, pool, f"c{i}") for i in range(runs)]
        release = asyncio.Event()  # lets the abandoned agents finish once measured
        stuck_script = [*many_chunks(3), IgnoreCancel(release, max_s=60)]
        log = logging.getLogger("deepsearch_nb.runtime")
        level = log.level
        log.setLevel(logging.ERROR)  # each abandonment logs a warning: expected here, 20 times
        try:
            stuck = [await _cancel_once(manager, stuck_script, 1, pool, f"s{i}") for i in range(stuck_runs)]
        finally:
            log.setLevel(level)
        release.set()
        await manager.drain(30)
        await _until_idle(manager)
    return {
        "cancel_runs": len(times),
        "cancel_ms_p50": round(percentile(times, 50), 2),
        "cancel_ms_p99": round(percentile(times, 99), 2),
        "cancel_ms_max": round(max(times), 2),
        "cancel_stuck_runs": len(stuck),
        "cancel_grace_ms": round(grace_s * 1000),
        "cancel_stuck_ms_p99": round(percentile(stuck, 99), 2),
    }


async def _until_idle(manager: RunManager, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not manager.stats().is_idle:
        if time.monotonic() > deadline:
            raise RuntimeError(f"bookkeeping left after the cancels: {manager.stats()}")
        await asyncio.sleep(0.01)


def run(runs: int = RUNS, stuck_runs: int = STUCK_RUNS, grace_s: float = GRACE_S) -> dict[str, Any]:
    return asyncio.run(_measure(runs, stuck_runs, grace_s))

"""How responsive the kernel's event loop stays while a run streams at full speed into the panel.

A 10 ms timer (``asyncio.sleep(0.01)`` in a loop, as a widget's debounce or a progress timer would be) runs
on the loop while an agent yields ``CHUNKS`` token chunks of 50 characters without ever suspending, into a
:class:`~deepsearch_nb._ui._panel.ResearchPanel` whose widgets talk to recording comms (every message
serialised as ipykernel would: the panel's model, without a browser). ``loop_lag_ms_p99`` is how much later
than 10 ms the timer woke, p99 over the stream (target <= 20 ms). The same stream without a panel (the run
manager and one subscriber) is measured in the same run, to show what the panel adds.

Wall-clock lateness also counts the time the operating system gave the CPU to other processes: on a
loaded machine (the load average is printed) it says more about the machine than about the code. So the
benchmark also prints ``loop_lag_cpu_ms_p99``: how much more than 10 ms of the loop thread's own CPU time
passed before the timer woke, i.e. what the stream's work held the loop for.

What the timer's lateness comes from is measured directly too: ``loop_stretch_ms_p99`` / ``_max`` are the
longest stretches of the loop thread's CPU time between two turns of a callback that reschedules itself
with ``call_soon`` (it runs once per pass of the loop), i.e. how long one pass held the loop: a slice of
the producer, a stream flush, a collection of the garbage collector. A sleeper that falls due waits for
up to three passes (the timer's pass, then its task's), so the stretch should stay near a millisecond.
The agent (which copies its 200,000-chunk script) is made before the measurement starts.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from .._ui._panel import ResearchPanel
from ..runtime import RunManager, RunState
from ..testing import ScriptedAgent, many_chunks
from ..testing._comms import recording_comms
from ._stats import percentile

__all__ = ["LABELS", "run"]

CHUNKS = 200_000
_TICK_S = 0.01

LABELS = {
    "loop_chunks": "chunks streamed at full speed (50 characters each)",
    "loop_chunks_per_s": "chunks per second into the panel",
    "loop_ticks": "10 ms timer wake-ups measured during the stream",
    "loop_lag_ms_p50": "timer lateness while streaming into the panel (ms, p50)",
    "loop_lag_ms_p99": "the same (ms, p99; target <= 20)",
    "loop_lag_ms_max": "the same (ms, max)",
    "loop_lag_cpu_ms_p99": "lateness in the loop thread's CPU time, p99 (ms; the machine's load left out)",
    "loop_stretch_ms_p99": "one pass of the loop, in the loop thread's CPU time, p99 (ms; target <= 2)",
    "loop_stretch_ms_max": "the longest pass of the loop (CPU ms; the panel's opening included)",
    "loop_bytes_sent": "bytes the panel sent meanwhile (recorded comms)",
    "loop_lag_ms_p99_no_panel": "timer lateness p99, same stream, no panel (ms)",
    "loop_load_avg_1m": "the machine's load average meanwhile (wall-clock lateness grows with it)",
}


class _Passes:
    """The CPU time of each pass of the loop: a callback that reschedules itself notes the time between two
    of its turns (one turn per pass). Only the loop thread's own CPU time, so the machine's load is left out."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.stretches: list[float] = []
        self._loop = loop
        self._last = time.thread_time()
        self._on = True
        loop.call_soon(self._turn)

    def _turn(self) -> None:
        now = time.thread_time()
        self.stretches.append((now - self._last) * 1000)
        self._last = now
        if self._on:
            self._loop.call_soon(self._turn)

    def stop(self) -> list[float]:
        self._on = False
        return self.stretches


async def _streamed(script: list[str], with_panel: bool) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    cpu_lags: list[float] = []
    streaming = True

    async def ticker() -> None:
        while streaming:
            start, cpu = loop.time(), time.thread_time()
            await asyncio.sleep(_TICK_S)
            lags.append((loop.time() - start - _TICK_S) * 1000)
            cpu_lags.append(max(0.0, (time.thread_time() - cpu - _TICK_S) * 1000))

    manager = RunManager()
    with recording_comms() as recorder:
        tick = asyncio.create_task(ticker())
        agent = ScriptedAgent(script)
        await asyncio.sleep(0.05)  # the timer is running before the first chunk
        lags.clear()
        cpu_lags.clear()
        passes = _Passes(loop)
        started = time.perf_counter()
        run = manager.start(agent, "bench", conversation_id="loop")
        panel = ResearchPanel(run) if with_panel else None
        if panel is not None:
            recorder.clear()
        else:
            run.subscribe(lambda _event: None)
        await run.wait()
        elapsed = time.perf_counter() - started
        stretches = passes.stop()
        streaming = False
        await tick
        nbytes = recorder.nbytes
        if panel is not None:
            panel.close()
        await manager.drain(30)
    if run.state is not RunState.COMPLETED or run.chunk_total != len(script):
        raise RuntimeError(f"the benchmark run ended {run.state.value}: {run.error}")
    per_s = run.chunk_total / elapsed
    return {"lags": lags, "cpu_lags": cpu_lags, "stretches": stretches, "per_s": per_s, "bytes": nbytes}


async def _measure(chunks: int) -> dict[str, Any]:
    script = many_chunks(chunks - 2, size=50)
    panel = await _streamed(script, with_panel=True)
    bare = await _streamed(script, with_panel=False)
    lags = panel["lags"]
    return {
        "loop_chunks": len(script),
        "loop_chunks_per_s": round(panel["per_s"]),
        "loop_ticks": len(lags),
        "loop_lag_ms_p50": round(percentile(lags, 50), 2),
        "loop_lag_ms_p99": round(percentile(lags, 99), 2),
        "loop_lag_ms_max": round(max(lags, default=0.0), 2),
        "loop_lag_cpu_ms_p99": round(percentile(panel["cpu_lags"], 99), 2),
        "loop_stretch_ms_p99": round(percentile(panel["stretches"], 99), 2),
        "loop_stretch_ms_max": round(max(panel["stretches"], default=0.0), 2),
        "loop_bytes_sent": panel["bytes"],
        "loop_lag_ms_p99_no_panel": round(percentile(bare["lags"], 99), 2),
        "loop_load_avg_1m": round(os.getloadavg()[0], 2),
    }


def run(chunks: int = CHUNKS) -> dict[str, Any]:
    return asyncio.run(_measure(chunks))

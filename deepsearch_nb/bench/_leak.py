"""What 1,000 runs leave behind: bookkeeping, tasks, run records and resident memory.

``RUNS`` runs on one :class:`~deepsearch_nb.runtime.RunManager` (``hitl_capacity`` 10), a quarter each of:
completed (50 chunks to ALL END), cancelled while streaming (after 10 chunks of an agent yielding about
every millisecond), paused at a clarification question and later evicted (more than ten runs waiting for
answers: the oldest is cancelled and cleaned up), and failed (the agent raises after 10 chunks). Each run
has its own agent and subscriber, as a notebook cell would. After the last one, the runs still waiting
within the capacity are closed (``aclose``, what shutting the kernel down does), the manager drained and
the garbage collected; then:

* ``leak_bookkeeping_after``: everything ``RunManager.stats()`` counts (live runs, producer tasks, paused
  sessions and step pauses, cancel events, abandoned and internal tasks, cached agents); target 0. The cancelled keys
  (bounded by the capacity, so no leak) are shown apart;
* ``leak_tasks_after``: asyncio tasks still alive on the loop besides the benchmark's own; target 0;
* ``leak_records_alive``: run records still reachable once the benchmark dropped its handles; target 0;
* ``leak_rss_growth_mb``: resident memory after the runs minus after a warm-up of ``WARMUP`` runs of the
  same mix (allocator pools, imports and caches filled); target <= 5 MB.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from typing import Any

import psutil  # type: ignore[import-untyped]

from .._runtime._record import RunRecord
from ..runtime import RunEvent, RunManager, RunState, StateChanged
from ..testing import Pause, Raise, ScriptedAgent, clarification, many_chunks, until_chunks
from ..testing import chunk as make_chunk

__all__ = ["LABELS", "run"]

RUNS = 1_000
WARMUP = 100
_KINDS = ("completed", "cancelled", "paused", "failed")

LABELS = {
    "leak_runs": "runs after the warm-up (a quarter each: completed, cancelled, paused-then-evicted, failed)",
    "leak_states": "how those runs ended (paused ones: evicted, or closed with the manager)",
    "leak_bookkeeping_after": "manager bookkeeping left after them (target 0)",
    "leak_cancelled_keys": "cancelled keys remembered (bounded by hitl_capacity, not a leak)",
    "leak_tasks_after": "asyncio tasks left on the loop (target 0)",
    "leak_records_alive": "run records still reachable (target 0)",
    "leak_rss_growth_mb": "resident memory growth over those runs (MB; target <= 5)",
}


def _scripts() -> dict[str, list[Any]]:
    streaming: list[Any] = []
    for item in many_chunks(200):
        streaming += [Pause(0.001), item]
    tokens = [make_chunk("sub_reporter", "message", "lorem ipsum ") for _ in range(10)]
    return {
        "completed": many_chunks(48),
        "cancelled": streaming,
        "paused": [*tokens, *clarification()],
        "failed": tokens,  # + a fresh exception per run (see _one)
    }


async def _one(manager: RunManager, kind: str, script: list[Any], name: str, states: dict[str, int]) -> None:
    if kind == "failed":  # one exception object raised again would chain every run's frames to it
        script = [*script, Raise(RuntimeError("the agent failed on purpose"))]
    run = manager.start(ScriptedAgent(script), "bench", conversation_id=name)

    def on_event(event: RunEvent) -> None:  # what a panel does: listen until the end
        if isinstance(event, StateChanged) and event.state.terminal:
            evicted = kind == "paused" and "evicted" in (run.cancel_reason or "")
            ending = f"{kind} -> {'evicted' if evicted else event.state.value}"
            states[ending] = states.get(ending, 0) + 1

    run.subscribe(on_event)
    if kind == "cancelled":
        await until_chunks(run, 10, timeout=30)
        run.cancel()
    await run.until_settled(30)
    if kind != "paused":
        await run.wait(30)
    expected = {
        "completed": RunState.COMPLETED,
        "cancelled": RunState.CANCELLED,
        "paused": RunState.WAITING_USER_INPUT,
        "failed": RunState.FAILED,
    }[kind]
    if run.state is not expected:
        raise RuntimeError(f"a {kind} run ended {run.state.value}: {run.error}")


async def _batch(manager: RunManager, count: int, prefix: str, states: dict[str, int]) -> None:
    scripts = _scripts()
    for i in range(count):
        kind = _KINDS[i % len(_KINDS)]
        await _one(manager, kind, scripts[kind], f"{prefix}{i}", states)
    await manager.drain(30)


def _records_alive() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, RunRecord))


def _rss_mb() -> float:
    gc.collect()
    return float(psutil.Process().memory_info().rss) / (1024 * 1024)


async def _measure(runs: int, warmup: int) -> dict[str, Any]:
    manager = RunManager(hitl_capacity=10)
    await _batch(manager, warmup, "warm", {})
    await manager.aclose(30)
    before = _rss_mb()
    states: dict[str, int] = {}
    await _batch(manager, runs, "run", states)
    await manager.aclose(30)  # the paused runs still within the capacity (what a kernel shutdown does), drained
    after = _rss_mb()
    stats = manager.stats()
    counted = {f.name: getattr(stats, f.name) for f in dataclasses.fields(stats)}
    bookkeeping = sum(value for name, value in counted.items() if name != "cancelled_keys")
    tasks = len(asyncio.all_tasks() - {asyncio.current_task()})
    return {
        "leak_runs": runs,
        "leak_states": ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
        "leak_bookkeeping_after": bookkeeping,
        "leak_cancelled_keys": stats.cancelled_keys,
        "leak_tasks_after": tasks,
        "leak_records_alive": _records_alive(),
        "leak_rss_growth_mb": round(after - before, 2),
    }


def run(runs: int = RUNS, warmup: int = WARMUP) -> dict[str, Any]:
    return asyncio.run(_measure(runs, warmup))

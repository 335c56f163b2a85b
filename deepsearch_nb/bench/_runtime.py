"""How much the run manager costs per chunk: iterating an agent directly vs. through a RunManager.

Both sides iterate the same agent yielding 100,000 small JSON chunks; the manager additionally parses and
validates each chunk, folds it into progress, records it and notifies a subscriber.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..runtime import RunManager, RunState
from ..testing import ScriptedAgent, many_chunks

__all__ = ["LABELS", "run"]

CHUNKS = 100_000

LABELS = {
    "chunks": "chunks per run",
    "raw_chunks_per_s": "agent iterated directly (chunks/s)",
    "runtime_chunks_per_s": "through the RunManager (chunks/s)",
    "runtime_overhead_ratio": "direct / managed throughput",
    "runtime_us_per_chunk": "manager cost per chunk (µs)",
}


async def _raw(script: list[str]) -> float:
    agent = ScriptedAgent(script)
    start = time.perf_counter()
    count = 0
    async for _ in agent.run("q", "bench"):
        count += 1
    return count / (time.perf_counter() - start)


async def _managed(script: list[str]) -> float:
    manager = RunManager()
    agent = ScriptedAgent(script)
    received = 0

    def count(_: object) -> None:
        nonlocal received
        received += 1

    start = time.perf_counter()
    run = manager.start(agent, "q", conversation_id="bench")
    run.subscribe(count)
    await run
    elapsed = time.perf_counter() - start
    if run.state is not RunState.COMPLETED or run.chunk_total != len(script) or received < len(script):
        raise RuntimeError(f"benchmark run ended {run.state}: {run.error}")
    await manager.drain()
    return run.chunk_total / elapsed


async def _measure() -> dict[str, Any]:
    script = many_chunks(CHUNKS - 2, size=20)
    raw = max([await _raw(script) for _ in range(3)])
    managed = max([await _managed(script) for _ in range(3)])
    return {
        "chunks": len(script),
        "raw_chunks_per_s": round(raw),
        "runtime_chunks_per_s": round(managed),
        "runtime_overhead_ratio": round(raw / managed, 2),
        "runtime_us_per_chunk": round(1e6 / managed - 1e6 / raw, 2),
    }


def run() -> dict[str, Any]:
    return asyncio.run(_measure())

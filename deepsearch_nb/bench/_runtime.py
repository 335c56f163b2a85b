"""How fast the run manager is per chunk, beside the seed server's run router on the same chunks.

Three ways through the same agent yielding 100,000 small JSON chunks, in one process, interleaved (best
of three each, so a busy neighbour on the machine hurts all three alike):

* ``raw_chunks_per_s``: the agent iterated directly, no work at all per chunk (the floor);
* ``runtime_chunks_per_s``: through a :class:`~deepsearch_nb.runtime.RunManager`, which parses and
  validates each chunk, folds it into progress, keeps it and notifies a subscriber;
* ``seed_router_chunks_per_s``: the seed router's own per-chunk work (two ``json.loads``, an asyncio queue
  between a producer task and the response body, SSE framing; see :mod:`._seed_router`).

``runtime_vs_seed_ratio`` is ours / seed in chunks per second (equivalently the seed's time per chunk
divided by ours): **>= 1.0 means the manager, which also validates, folds and notifies, is at least as
fast as the router that only re-parses**. ``runtime_overhead_ratio`` (direct / managed) says how far above
the floor a chunk costs; it is no verdict, since the floor does nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..runtime import RunManager, RunState
from ..testing import ScriptedAgent, many_chunks
from ._seed_router import seed_router_chunks_per_s

__all__ = ["LABELS", "run"]

CHUNKS = 100_000

LABELS = {
    "chunks": "chunks per run",
    "raw_chunks_per_s": "agent iterated directly (chunks/s)",
    "runtime_chunks_per_s": "through the RunManager (chunks/s)",
    "seed_router_chunks_per_s": "the seed router's per-chunk path (chunks/s)",
    "runtime_vs_seed_ratio": "managed / seed router throughput (>= 1: ours no slower)",
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


async def _measure(total: int) -> dict[str, Any]:
    script = many_chunks(total - 2, size=20)
    raw: list[float] = []
    managed: list[float] = []
    seed: list[float] = []
    for _ in range(3):
        raw.append(await _raw(script))
        managed.append(await _managed(script))
        seed.append(await seed_router_chunks_per_s(ScriptedAgent(script), len(script)))
    return _figures(len(script), max(raw), max(managed), max(seed))


def _figures(chunks: int, raw: float, managed: float, seed: float) -> dict[str, Any]:
    return {
        "chunks": chunks,
        "raw_chunks_per_s": round(raw),
        "runtime_chunks_per_s": round(managed),
        "seed_router_chunks_per_s": round(seed),
        "runtime_vs_seed_ratio": round(managed / seed, 2),
        "runtime_overhead_ratio": round(raw / managed, 2),
        "runtime_us_per_chunk": round(1e6 / managed - 1e6 / raw, 2),
    }


def run(chunks: int = CHUNKS) -> dict[str, Any]:
    return asyncio.run(_measure(chunks))

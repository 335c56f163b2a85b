"""The runtime benchmark's parts, at a small size: keys and shape only (its figures are printed, not asserted)."""

from __future__ import annotations

import asyncio

from deepsearch_nb.bench import _runtime
from deepsearch_nb.bench._seed_router import seed_router_chunks_per_s
from deepsearch_nb.testing import ScriptedAgent, many_chunks


def test_runtime_bench_reports_ours_beside_the_seed_router() -> None:
    figures = _runtime.run(chunks=500)
    keys = {"raw_chunks_per_s", "runtime_chunks_per_s", "seed_router_chunks_per_s", "runtime_vs_seed_ratio"}
    assert keys <= set(figures) <= set(_runtime.LABELS)
    assert figures["chunks"] == 500
    assert all(figures[key] > 0 for key in keys)
    ratio = figures["runtime_chunks_per_s"] / figures["seed_router_chunks_per_s"]
    assert abs(figures["runtime_vs_seed_ratio"] - ratio) < 0.05 * ratio + 0.01  # ours / seed: >= 1 is ours faster


def test_seed_router_path_frames_every_chunk() -> None:
    script = many_chunks(50, size=20)
    assert asyncio.run(seed_router_chunks_per_s(ScriptedAgent(script), len(script))) > 0

"""The cancel benchmark at a small size: keys and shape only (its figures are printed, not asserted)."""

from __future__ import annotations

from deepsearch_nb.bench import _cancel


def test_cancel_bench_measures_streaming_and_stuck_agents() -> None:
    figures = _cancel.run(runs=5, stuck_runs=2, grace_s=0.05)
    assert set(figures) == set(_cancel.LABELS)
    assert figures["cancel_runs"] == 5
    assert figures["cancel_stuck_runs"] == 2
    assert figures["cancel_grace_ms"] == 50
    assert 0 < figures["cancel_ms_p50"] <= figures["cancel_ms_p99"] <= figures["cancel_ms_max"]
    assert figures["cancel_stuck_ms_p99"] > 0

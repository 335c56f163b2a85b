"""The leak benchmark at a small size: keys and shape only (its figures are printed, not asserted)."""

from __future__ import annotations

from deepsearch_nb.bench import _leak


def test_leak_bench_runs_every_kind_and_counts_what_is_left() -> None:
    figures = _leak.run(runs=48, warmup=4)
    assert set(figures) == set(_leak.LABELS)
    assert figures["leak_runs"] == 48
    states = str(figures["leak_states"])
    endings = ("completed -> COMPLETED 12", "cancelled -> CANCELLED 12", "failed -> FAILED 12", "paused -> evicted 2")
    assert all(ending in states for ending in endings), states
    # Counts, not timings: the manager's own tests prove these are 0; here they must be numbers.
    for key in ("leak_bookkeeping_after", "leak_tasks_after", "leak_records_alive"):
        assert isinstance(figures[key], int)
    assert isinstance(figures["leak_rss_growth_mb"], float)

"""The step benchmark at its smallest size: keys and shape only (its figures are printed, not asserted)."""

from __future__ import annotations

from deepsearch_nb.bench import BENCHMARKS, _step


def test_step_bench_reports_pause_overhead_and_fork_time() -> None:
    assert BENCHMARKS["step"] == "deepsearch_nb.bench._step"
    figures = _step.run(repeats=1)
    assert set(figures) == set(_step.LABELS)
    assert figures["step_pauses"] > 0
    assert figures["fork_ms"] > 0 and figures["step_plain_ms"] > 0 and figures["step_stepped_ms"] > 0

"""The loop benchmark at a small size: keys and shape only (its figures are printed, not asserted)."""

from __future__ import annotations

from deepsearch_nb.bench import _loop


def test_loop_bench_times_a_timer_while_the_panel_streams() -> None:
    figures = _loop.run(chunks=3_000)
    assert set(figures) == set(_loop.LABELS)
    assert figures["loop_chunks"] == 3_000
    assert figures["loop_bytes_sent"] > 3_000 * 50  # the panel's model did receive the text
    keys = (
        "loop_lag_ms_p50",
        "loop_lag_ms_p99",
        "loop_lag_cpu_ms_p99",
        "loop_lag_ms_p99_no_panel",
        "loop_stretch_ms_p99",
    )
    for key in keys:
        assert isinstance(figures[key], float)
    assert figures["loop_stretch_ms_max"] >= figures["loop_stretch_ms_p99"] >= 0.0  # passes of the loop were timed

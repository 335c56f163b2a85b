"""`bench stream-browser` at a tiny size: every way runs in a real JupyterLab + Chromium and reports each
figure; ours gets the whole text on screen (figures are printed by the benchmark, never asserted here)."""

from __future__ import annotations

import pytest

from deepsearch_nb.bench._stream_browser import LABELS, WAYS, run
from deepsearch_nb.testing import CHROMIUM

pytestmark = pytest.mark.browser


def test_every_way_streams_to_the_screen_and_reports_its_figures() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make system-deps)")
    figures = run(60, 50, timeout_s=30, idle_s=2)
    assert set(figures) == set(LABELS)
    assert figures["ours_screen_intact"] is True and figures["ours_screen_chunks"] == 60
    for way in WAYS:
        assert 0 <= figures[f"{way}_screen_chunks"] <= 60, way
        assert figures[f"{way}_screen_s"] >= 0, way
    # The text reached the screen through Panel too (its scripts inlined; only its CDN style sheets blocked).
    assert figures["panel_md_screen_chunks"] > 0 and figures["panel_chatfeed_screen_chunks"] > 0
    assert 0 <= figures["stream_screen_lag_ms_p50"] <= figures["stream_screen_lag_ms_p99"]
    assert figures["blocked_requests"] >= 0 and figures["iopub_rate_exceeded"] >= 0

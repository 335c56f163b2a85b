"""The render benchmark at a tiny size: every figure is there, sane, and the report was really rendered
(its figures are printed, not asserted)."""

from __future__ import annotations

import json

import pytest

from deepsearch_nb._report import REPORT_MIME
from deepsearch_nb.bench import _render
from deepsearch_nb.bench._render_report import report_bundle_of_size
from deepsearch_nb.testing import CHROMIUM

pytestmark = pytest.mark.browser


def test_the_generated_report_has_the_size_asked_for_and_its_fallbacks() -> None:
    doc, bundle = report_bundle_of_size(200_000)
    assert 150_000 <= len(json.dumps(doc)) <= 250_000
    assert {"text/html", "text/markdown", "text/plain", REPORT_MIME} <= set(bundle)
    assert doc["citation_check"]["citations"] > 0
    assert all(s["passages"] and s["document"] for s in doc["sources"])


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium is not installed at {CHROMIUM}")
def test_render_bench_renders_the_report_and_its_peer() -> None:
    figures = _render.run(large_bytes=30_000, small_bytes=10_000, samples=2)
    assert set(figures) == set(_render.LABELS)
    assert figures["render_samples"] == 2
    for key, value in figures.items():
        assert isinstance(value, int | float) and value >= 0, (key, value)
    assert 0 < figures["render_ms_1mb"] <= figures["render_ms_1mb_max"]
    assert figures["peer_html_render_ms_1mb"] > 0 and figures["render_ms_100kb"] > 0
    assert figures["report_sections_1mb"] > 0
    assert figures["render_sections_1mb"] == figures["report_sections_1mb"]
    assert figures["render_sources_1mb"] == figures["report_sources_1mb"] > 0

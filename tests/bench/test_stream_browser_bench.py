"""``bench stream-browser``: its arithmetic on made-up screens, and the whole benchmark at a tiny size in a
real JupyterLab and Chromium (keys and sane values; its figures are printed, never asserted, except that
ours reaches the screen whole)."""

from __future__ import annotations

import json
import re

import pytest

from deepsearch_nb.bench import BENCHMARKS, _stream_browser
from deepsearch_nb.bench._stream_browser import LABELS, PREFIX, _figures
from deepsearch_nb.bench._stream_browser_kernel import marked_chunks, marked_texts
from deepsearch_nb.bench._stream_browser_page import Screen
from deepsearch_nb.testing import CHROMIUM, many_chunks


def test_the_text_is_the_stream_benchmarks_numbered() -> None:
    texts = marked_texts(120, 50)
    assert all(len(t) == 50 and t.endswith(" ") for t in texts)
    assert [int(m) for m in re.findall(r"K(\d{5})K", "".join(texts))] == list(range(120))
    plain, marked = _fields(many_chunks(120, 50)), _fields(marked_chunks(120, 50))
    assert len(plain) == len(marked) == 122
    assert [{**a, "content": text} for a, text in zip(plain, texts, strict=False)] == marked[:120]
    assert plain[120:] == marked[120:]  # the final result and ALL END unchanged


def _fields(chunks: list[str]) -> list[dict[str, object]]:
    """The chunks without what differs between two calls (time stamps, fresh message ids)."""
    out = []
    for raw in chunks:
        data = json.loads(raw)
        del data["created_time"]
        if data["message_id"] != "msg-bench":
            del data["message_id"]
        out.append(data)
    return out


def _screen(seen: list[int], text: str, changed: int) -> Screen:
    return Screen(seen=seen, text=text, changed_at_ms=changed, scans=1, busy_ms=0.0)


def test_figures_of_a_whole_and_of_a_broken_screen() -> None:
    texts = marked_texts(4, 20)
    sent = [1000.0, 1000.1, 1000.2, 1000.3]
    seen = [1_000_050, 1_000_150, 1_000_300, 1_000_300]  # the last two arrived in one update
    whole = _figures("x", _screen(seen, "  ".join(texts) + " footer", 1_000_300), sent, texts, False, 9.0)
    assert whole["x_screen_intact"] is True
    assert whole["x_screen_chunks"] == 4
    assert whole["x_screen_s"] == pytest.approx(0.3)
    assert whole["x_screen_lag_ms_p50"] == pytest.approx(50, abs=0.1)
    assert whole["x_screen_fresh_ms_p50"] == pytest.approx(50, abs=0.1)  # per update: 50, 50, 0
    assert whole["x_kernel_s"] == pytest.approx(0.3)

    lost = _figures("x", _screen([seen[0], 0, 0, seen[3]], texts[0] + texts[3], 1_000_400), sent, texts, False, 9.0)
    assert lost["x_screen_intact"] is False and lost["x_screen_chunks"] == 2
    assert lost["x_screen_s"] == pytest.approx(0.4)  # to the last change

    garbled = _figures("x", _screen(seen, "".join(texts).replace("lorem", "LOREM"), 1_000_300), sent, texts, False, 9)
    assert garbled["x_screen_intact"] is False  # every marker, not the text

    late = _figures("x", _screen([seen[0], 0, 0, 0], texts[0], 1_000_050), sent, texts, True, 9.0)
    assert late["x_timed_out"] is True and late["x_screen_s"] == 9.0


@pytest.mark.browser
def test_tiny_stream_in_jupyterlab_and_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; `make test` does it)")
    assert BENCHMARKS["stream-browser"] == "deepsearch_nb.bench._stream_browser"
    figures = _stream_browser.run(100, 50, timeout_s=40)
    assert set(figures) <= set(LABELS), set(figures) - set(LABELS)
    assert figures["report_bytes"] == 5_000 and figures["chunks"] == 100
    assert isinstance(figures["blocked_requests"], int) and figures["blocked_requests"] >= 0
    assert isinstance(figures["load_average"], float) and isinstance(figures["load_average_end"], float)
    for prefix in PREFIX.values():
        if f"{prefix}_reason" in figures:  # Panel not installed, or it did not render
            assert figures[f"{prefix}_screen_intact"] is False
            continue
        assert isinstance(figures[f"{prefix}_screen_intact"], bool)
        assert 0 <= int(figures[f"{prefix}_screen_chunks"]) <= 100
        assert 0 < float(figures[f"{prefix}_screen_s"]) < 60
        assert -1 <= float(figures[f"{prefix}_screen_lag_ms_p50"]) <= float(figures[f"{prefix}_screen_lag_ms_p99"])
        assert float(figures[f"{prefix}_screen_lag_ms_p99"]) < 60_000
        assert figures[f"{prefix}_timed_out"] in (True, False)
        assert int(figures[f"{prefix}_iopub_drops"]) >= 0 and int(figures[f"{prefix}_console_errors"]) >= 0
    assert figures["stream_screen_intact"] is True
    assert figures["stream_screen_chunks"] == 100
    assert figures["stream_timed_out"] is False

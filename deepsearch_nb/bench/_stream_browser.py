"""Whether the streamed text reaches the screen, and how late: JupyterLab + Chromium on 127.0.0.1.

The in-process ``bench stream`` counts what each way would send; this one looks at the screen. One
JupyterLab and one headless Chromium page (:func:`~deepsearch_nb.testing.lab_in_chromium`: every
request off 127.0.0.1 is aborted and counted as ``blocked_requests``; Panel asks CDNs for its CSS,
and is loaded with ``pn.extension(inline=True)``, its JavaScript inline, the way Panel works
offline), one notebook, one kernel. The same text as ``bench stream`` (100 KB as 2,000 chunks, 1 ms
apart; each chunk numbered, see :mod:`._stream_browser_kernel`) goes, one way after the other, through
ours (``research()``: our panel's stream view), the naive ``ipywidgets.HTML`` ``value += chunk``,
Panel's streaming Markdown pane and Panel's ``ChatFeed.stream``.

For each way: its cell shows the output, the page starts watching it (:mod:`._stream_browser_page`),
then the kernel streams. ``*_screen_intact``: every chunk's marker appeared and the last text shown
holds the whole text (whitespace normalised: Markdown folds it). ``*_screen_s``: from the kernel's first
chunk to the last chunk seen (intact), or to the last change of the text (not intact).
``*_screen_lag_ms_p50/p99``: chunk handed over in the kernel (``time.time()``) to its marker in the page
(``Date.now()``), over the chunks that arrived; ``*_screen_chunks``: how many did;
``*_screen_fresh_ms_p50``: the smallest lag of each screen update (the chunk that waited least for a
message to carry it: what the way of sending adds to the pipe, ours waits up to 80 ms by design). A way is watched until
every chunk arrived, or its text has not changed for ``QUIET_S`` after its run ended, or ``timeout_s``
(``*_timed_out``; its run is then cancelled). ``*_iopub_drops``: the server's "IOPub message/data rate
exceeded" notices in the notebook during that way (the server drops a kernel's IOPub messages above
1,000/s by default, and says so in the cell of the message's parent); ``*_console_errors``: errors in
the page's console meanwhile (Bokeh failing to apply one of Panel's patches shows there).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

from ..testing import LabPage, lab_in_chromium, write_notebook
from . import _stream_browser_page as screen
from ._panel_peers import panel_available
from ._stats import percentile
from ._stream import CHUNK_CHARS, CHUNKS
from ._stream_browser_kernel import READY, WAYS, marked_texts

__all__ = ["LABELS", "run"]

SETUP = "from deepsearch_nb.bench import _stream_browser_kernel as sbk"
PACE_S = 0.001
TIMEOUT_S = 90.0
QUIET_S = 3.0
RENDER_TIMEOUT_MS = 30_000
#: the figures' prefix of each way (ours keeps ``stream_``, as in ``bench stream``)
PREFIX = {"ours": "stream", "naive": "naive", "panel_md": "panel_md", "panel_chatfeed": "panel_chatfeed"}
#: where the page reads each way's text (None: the whole output, shadow roots included)
SELECTOR: dict[str, str | None] = {
    "ours": ".deepsearch-group-body",
    "naive": ".widget-html-content",
    "panel_md": None,
    "panel_chatfeed": None,
}
#: what shows that the way's output has rendered: an element, and a text in it for the peers
READY_SIGN = {
    "ours": (".deepsearch-stream", ""),
    "naive": (".widget-html-content", READY.strip()),
    "panel_md": (".jp-OutputArea-output", READY.strip()),
    "panel_chatfeed": (".jp-OutputArea-output", READY.strip()),
}
_WHAT = {
    "stream": "ours (research(), the panel's stream view)",
    "naive": "naive HTML.value += chunk",
    "panel_md": "Panel Markdown(enable_streaming=True)",
    "panel_chatfeed": "Panel ChatFeed.stream",
}

LABELS: dict[str, str] = {
    "report_bytes": "text streamed (bytes)",
    "chunks": "chunks (each numbered)",
    "pace_ms": "time between two chunks in the kernel (ms)",
    "blocked_requests": "requests off 127.0.0.1 the page made (aborted)",
    "blocked_hosts": "their hosts",
    "page_errors": "uncaught errors in the page",
    "load_average": "load average (1 min) at the start",
    "load_average_end": "load average (1 min) at the end",
}
for _prefix, _what in _WHAT.items():
    LABELS |= {
        f"{_prefix}_screen_intact": f"{_what}: the whole text reached the screen",
        f"{_prefix}_screen_s": f"{_what}: first chunk sent -> last chunk shown (or last change) (s)",
        f"{_prefix}_screen_lag_ms_p50": f"{_what}: chunk sent -> shown, p50 (ms)",
        f"{_prefix}_screen_lag_ms_p99": f"{_what}: chunk sent -> shown, p99 (ms)",
        f"{_prefix}_screen_fresh_ms_p50": f"{_what}: the freshest chunk of each screen update, sent -> shown, p50 (ms)",
        f"{_prefix}_screen_chunks": f"{_what}: chunks that reached the screen",
        f"{_prefix}_kernel_s": f"{_what}: first to last chunk in the kernel (s)",
        f"{_prefix}_iopub_drops": f"{_what}: server's IOPub rate-exceeded notices",
        f"{_prefix}_timed_out": f"{_what}: still not whole after the timeout",
        f"{_prefix}_console_errors": f"{_what}: errors in the page's console (blocked requests aside)",
        f"{_prefix}_reason": f"{_what}: why it was not measured",
    }


def run(
    chunks: int = CHUNKS,
    size: int = CHUNK_CHARS,
    *,
    pace_s: float = PACE_S,
    timeout_s: float = TIMEOUT_S,
    ways: Sequence[str] = WAYS,
) -> dict[str, float | int | str]:
    """Stream ``chunks`` chunks of ``size`` characters through each of ``ways`` in one JupyterLab page."""
    figures: dict[str, float | int | str] = {
        "report_bytes": chunks * size,
        "chunks": chunks,
        "pace_ms": pace_s * 1000,
        "load_average": round(os.getloadavg()[0], 2),
    }
    with lab_in_chromium("stream-browser") as lab:
        lab.open_notebook(write_notebook(lab.server, "stream_browser.ipynb", [SETUP]))
        lab.run_cell(index=0)
        panel_loaded = False
        for way in ways:
            if way.startswith("panel_") and not panel_loaded:
                if not panel_available():
                    figures |= _absent(way, "panel is not installed (the bench extra)")
                    continue
                lab.run_python("import panel as pn\npn.extension(inline=True)", timeout_ms=120_000)
                panel_loaded = True
            figures |= _measure(lab, way, chunks, size, pace_s, timeout_s)
        figures["blocked_requests"] = len(lab.external_requests)
        hosts = sorted({u.split("/")[2] for u in lab.external_requests if "://" in u})
        figures["blocked_hosts"] = ", ".join(hosts) or "none"
        figures["page_errors"] = len(lab.page_errors)
    figures["load_average_end"] = round(os.getloadavg()[0], 2)
    return figures


def _measure(lab: LabPage, way: str, chunks: int, size: int, pace_s: float, timeout_s: float) -> dict[str, Any]:
    prefix = PREFIX[way]
    notices, errors = screen.rate_notices(lab), len(lab.console_errors)
    lab.run_cell(f"way = sbk.show({way!r}, {chunks}, {size}, {pace_s})\nway.view")
    index = screen.last_cell_index(lab)
    element, ready = READY_SIGN[way]
    if not screen.wait_ready(lab, index, element, ready, RENDER_TIMEOUT_MS):
        lab.run_python("print(await way.finish(0))")
        return _absent(way, "its output did not render in the page")
    screen.install(lab, index, chunks, SELECTOR[way])
    lab.run_python("way.go()")
    go = time.monotonic()
    timed_out, sent = _watch(lab, chunks, go, timeout_s)
    elapsed_s = time.monotonic() - go
    shown = screen.read(lab)
    lab.run_python(f"print(await way.finish({0 if timed_out else 10}))", timeout_ms=60_000)
    figures = _figures(prefix, shown, sent, marked_texts(chunks, size), timed_out, elapsed_s)
    figures[f"{prefix}_iopub_drops"] = screen.rate_notices(lab) - notices
    figures[f"{prefix}_console_errors"] = sum(1 for e in lab.console_errors[errors:] if not _blocked_notice(e))
    _clear_output(lab, index)
    return figures


def _watch(lab: LabPage, chunks: int, go: float, timeout_s: float) -> tuple[bool, list[float]]:
    """Poll the page until every chunk is shown, or the text stays still after the run ended, or the timeout;
    (timed out, the kernel's send times)."""
    result = lab.server.root_dir / "stream_browser_sent.json"
    asked = 0.0  # when the kernel was last asked whether its run ended (at most once a second)
    while True:
        time.sleep(0.2)
        seen, changed_ms = screen.status(lab)
        over = time.monotonic() - go > timeout_s
        still_s = time.time() - changed_ms / 1000 if changed_ms else time.monotonic() - go
        if seen < chunks and not over and (still_s < QUIET_S or time.monotonic() - asked < 1.0):
            continue
        asked = time.monotonic()
        lab.run_python(f"print(way.result({str(result)!r}))")
        outcome = json.loads(result.read_text(encoding="utf-8"))
        sent, done = [float(t) for t in outcome["sent"]], bool(outcome["done"])
        if seen >= chunks or over:
            return seen < chunks, sent
        if done:  # still for QUIET_S and the kernel has sent everything: this is all that will show
            return False, sent


def _figures(
    prefix: str, shown: screen.Screen, sent: list[float], texts: list[str], timed_out: bool, elapsed_s: float
) -> dict[str, Any]:
    numbers = range(min(len(sent), len(texts)))
    arrived = [(shown.seen[i], shown.seen[i] - sent[i] * 1000) for i in numbers if shown.seen[i]]
    lags = [lag for _, lag in arrived]
    fresh: dict[int, float] = {}  # per screen update (a first-seen time): its smallest lag
    for at, lag in arrived:
        fresh[at] = min(lag, fresh.get(at, lag))
    whole = " ".join("".join(texts).split())
    intact = shown.count == len(texts) and whole in " ".join(shown.text.split())
    start_ms = sent[0] * 1000 if sent else 0.0
    if intact:
        screen_s = (max(shown.seen) - start_ms) / 1000
    elif timed_out or not shown.changed_at_ms:
        screen_s = elapsed_s
    else:
        screen_s = (shown.changed_at_ms - start_ms) / 1000
    return {
        f"{prefix}_screen_intact": intact,
        f"{prefix}_screen_s": round(screen_s, 3),
        f"{prefix}_screen_lag_ms_p50": round(percentile(lags, 50), 1),
        f"{prefix}_screen_lag_ms_p99": round(percentile(lags, 99), 1),
        f"{prefix}_screen_fresh_ms_p50": round(percentile(list(fresh.values()), 50), 1),
        f"{prefix}_screen_chunks": shown.count,
        f"{prefix}_kernel_s": round(sent[-1] - sent[0], 3) if sent else 0.0,
        f"{prefix}_timed_out": timed_out,
    }


def _blocked_notice(error: str) -> bool:
    """A console error that only reports a blocked request (counted in ``blocked_requests``)."""
    return error.startswith(("Failed to load resource: net::ERR_BLOCKED_BY_CLIENT", "failed to load http"))


def _absent(way: str, reason: str) -> dict[str, Any]:
    prefix = PREFIX[way]
    return {f"{prefix}_screen_intact": False, f"{prefix}_reason": reason}


def _clear_output(lab: LabPage, index: int) -> None:
    """Drop the way's output, so the next way streams into a page as light as this one did."""
    lab.page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs.clear()", index)

"""Streaming a report into a notebook, as the person at the screen sees it: JupyterLab + Chromium.

The in-process ``stream`` benchmark counts bytes; this one asks whether the text reaches the screen and
how late. A real JupyterLab (127.0.0.1, its own temporary home) runs a real kernel; a headless Chromium
shows the notebook. The same text, 100 KB as 2,000 chunks of 50 characters 1 ms apart, each chunk
starting with a numbered marker, is streamed by four ways, one cell each, in one kernel:

* ``ours``: ``deepsearch_nb.research`` with an agent yielding those chunks (the panel's stream view),
  then a final result holding that text, as a real report does (the report replaces the panel at the end,
  so the last chunks may first appear in it);
* ``naive``: ``ipywidgets.HTML``, ``value += chunk``;
* ``panel_md``: Panel's ``Markdown(enable_streaming=True)``, ``object += chunk``;
* ``panel_chatfeed``: Panel's ``ChatFeed.stream(chunk, message=...)``.

The kernel records when it hands each chunk on (``time.time()``); the page looks at the cell's output on
every animation frame (the text of every node, shadow roots included: Panel renders into them) and
records when each marker is first there. Same machine, same clock: lag = seen - sent. A way is
``*_screen_intact`` when every marker was seen; ``*_screen_s`` is the time from the first chunk sent to
the last marker seen (or to the moment the screen stopped changing). Each way is bounded in time.
Requests the page makes to anything but 127.0.0.1 (Panel asks a CDN for style sheets) are aborted and
counted as ``blocked_requests``; Panel is loaded with ``pn.extension(inline=True)``, its scripts inlined,
as an offline notebook needs. The Jupyter server keeps its default IOPub rate limits (what users have):
``iopub_rate_exceeded`` counts the times its log says it dropped output over them.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from ..testing import chromium, make_lab_server, new_lab_page, write_notebook
from ._stats import percentile

__all__ = ["LABELS", "WAYS", "run"]

WAYS = ("ours", "naive", "panel_md", "panel_chatfeed")
# What is on screen once a way's view has rendered (the stream starts then).
_SHOWN = {
    "ours": ".deepsearch-panel",
    "naive": ".widget-html",
    "panel_md": "[data-root-id]",
    "panel_chatfeed": "[data-root-id]",
}
SETTLE_S = 1.0  # after that, for the view's own first layout (Panel renders into shadow roots)
PREFIX = "qz"  # marker: qz00042| (letters no filler word contains, nothing Markdown rewrites)

LABELS = {
    "report_bytes": "text streamed (bytes), every way",
    "stream_chunks": "chunks, 1 ms apart",
    **{f"{way}_screen_intact": f"{way}: every chunk's text reached the screen" for way in WAYS},
    **{f"{way}_screen_chunks": f"{way}: chunks seen on screen" for way in WAYS},
    **{f"{way}_screen_s": f"{way}: first chunk sent -> last text seen (s)" for way in WAYS},
    "stream_screen_lag_ms_p50": "ours: chunk sent -> its text on screen, p50 (ms)",
    "stream_screen_lag_ms_p99": "ours: chunk sent -> its text on screen, p99 (ms)",
    **{f"{way}_screen_lag_ms_p99": f"{way}: chunk sent -> on screen, p99 of the chunks seen (ms)" for way in WAYS[1:]},
    "blocked_requests": "page requests to other hosts, aborted (Panel's CDN style sheets)",
    "iopub_rate_exceeded": "times the Jupyter server dropped IOPub output over its rate limits (its log)",
    "load_average": "the machine's 1-minute load average at the end",
}

# The kernel side. Every way streams from a background task of the kernel's loop (as a run does), so
# the cell returns at once and the page watches the output grow.
_SETUP = """\
import asyncio, json, time
from deepsearch_nb.testing import chunk, final_result, all_end
N, SIZE, PACE = {chunks}, {size}, 0.001
def _text(i):
    head = "{prefix}%05d| " % i
    return (head + "lorem ipsum dolor sit amet " * 4)[:SIZE - 1] + " "
TEXTS = [_text(i) for i in range(N)]
SENT = {{}}
GO = asyncio.Event()  # set once the way's view is on screen: the widgets' creation is not timed
"""

_OURS = """\
import deepsearch_nb
class _TimedAgent:
    async def run(self, message, conversation_id, agent_config=None, report_template="", interrupt_feedback=""):
        await GO.wait()
        for text in TEXTS:
            await asyncio.sleep(PACE)
            SENT.setdefault("ours", []).append(time.time())
            yield json.dumps(chunk("sub_reporter", "message", text, message_id="msg-bench", section_idx="1"))
        yield json.dumps(final_result("# Bench\\n\\n" + "".join(TEXTS)))  # a report holds what streamed
        yield json.dumps(all_end())
ours = deepsearch_nb.research("Streaming benchmark", agent=_TimedAgent(), transcript=False)
"""

_PEER = """\
{make}
async def _feed(way, append):
    await GO.wait()
    for text in TEXTS:
        await asyncio.sleep(PACE)
        SENT.setdefault(way, []).append(time.time())
        append(text)
TASK = asyncio.ensure_future(_feed("{way}", _append))
"""

_MAKE = {
    "naive": """\
import ipywidgets
from IPython.display import display
_html = ipywidgets.HTML("")
display(_html)
def _append(text):
    _html.value += text""",
    "panel_md": """\
import panel as pn
pn.extension(inline=True)  # bokeh and Panel JS inlined: no CDN (the page reaches only 127.0.0.1)
_md = pn.pane.Markdown("", enable_streaming=True)
display(_md)
def _append(text):
    _md.object += text""",
    "panel_chatfeed": """\
import panel as pn
pn.extension(inline=True)  # bokeh and Panel JS inlined: no CDN (the page reaches only 127.0.0.1)
_feed_view = pn.chat.ChatFeed()
display(_feed_view)
_message = _feed_view.stream("", user="DeepSearch")
def _append(text):
    _feed_view.stream(text, message=_message)""",
}

# The page side: on every animation frame, the text of the cell's output (shadow roots included), and
# the first time each marker is there, in epoch milliseconds (the kernel's clock).
_WATCH = """({index, prefix, count}) => {
    const nb = window.jupyterapp.shell.currentWidget.content;
    const deepText = (root) => {
        const parts = [];
        const walk = (n) => {
            if (n.nodeType === 3) { parts.push(n.data); return; }
            if (n.shadowRoot) walk(n.shadowRoot);
            for (const c of n.childNodes) walk(c);
        };
        walk(root);
        return parts.join('');
    };
    const marker = (i) => prefix + String(i).padStart(5, '0') + '|';
    const w = { seen: [], frames: 0, changed: performance.now(), stop: false };
    window.__dsWatch = w;
    const tick = () => {
        const cell = nb.widgets[index];
        const area = cell && cell.node.querySelector('.jp-Cell-outputArea');
        if (area) {
            const text = deepText(area);
            let pos = 0;
            while (w.seen.length < count) {
                const at = text.indexOf(marker(w.seen.length), pos);
                if (at < 0) break;
                w.seen.push(performance.timeOrigin + performance.now());
                w.changed = performance.now();
                pos = at;
            }
        }
        w.frames += 1;
        if (!w.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""


def _watch(lab: Any, way: str, source: str, count: int, timeout_s: float, idle_s: float) -> dict[str, Any]:
    """Run ``source`` in a new cell and watch its output until every marker is seen, the screen has not
    changed for ``idle_s`` (after the stream's time), or ``timeout_s``."""
    index = lab.page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
    lab.page.evaluate(_WATCH, {"index": index, "prefix": PREFIX, "count": count})
    lab.run_cell(source)
    lab.cell_node(index).locator(_SHOWN[way]).first.wait_for(state="attached", timeout=60_000)
    time.sleep(SETTLE_S)
    started = time.monotonic()
    lab.run_cell("GO.set()")
    lab.run_cell("GO.clear()")  # the next way waits for its own start
    while time.monotonic() - started < timeout_s:
        state = lab.page.evaluate("() => [window.__dsWatch.seen.length, performance.now() - window.__dsWatch.changed]")
        seen, quiet_ms = state
        if seen >= count or (time.monotonic() - started > count * 0.002 + idle_s and quiet_ms > idle_s * 1000):
            break
        time.sleep(0.2)
    seen_ms: list[float] = lab.page.evaluate("() => { window.__dsWatch.stop = true; return window.__dsWatch.seen; }")
    # Stop the stream if it still goes on (a timed-out way), then read the kernel's send times.
    stop = "ours.cancel()" if way == "ours" else "TASK.cancel()"
    sent_s: list[float] = json.loads(lab.run_python(f"{stop}\nprint(json.dumps(SENT.get({way!r}, [])))"))
    lags = [seen - sent * 1000 for seen, sent in zip(seen_ms, sent_s, strict=False)]
    last = max(seen_ms, default=sent_s[0] * 1000 if sent_s else 0.0)
    return {
        "intact": len(seen_ms) == count,
        "chunks": len(seen_ms),
        "screen_s": round((last - sent_s[0] * 1000) / 1000, 3) if sent_s else 0.0,
        "lags": lags,
    }


def run(chunks: int = 2_000, size: int = 50, *, timeout_s: float = 60.0, idle_s: float = 5.0) -> dict[str, Any]:
    """Every way once, in this order, in one kernel and one page; figures as described above."""
    figures: dict[str, Any] = {"report_bytes": chunks * size, "stream_chunks": chunks}
    with tempfile.TemporaryDirectory(prefix="bench-stream-browser-") as tmp:
        base = Path(tmp)
        (base / "notebooks").mkdir()
        server = make_lab_server(base, "bench", base / "notebooks", base / "data", ())
        server.start()
        try:
            with chromium() as browser:
                context, lab = new_lab_page(browser, server, "bench-stream-browser", artifacts=base / "artifacts")
                try:
                    setup = _SETUP.format(chunks=chunks, size=size, prefix=PREFIX)
                    lab.open_notebook(write_notebook(server, "stream.ipynb", [setup]))
                    lab.run_cell(index=0)
                    for way in WAYS:
                        source = _OURS if way == "ours" else _PEER.format(make=_MAKE[way], way=way)
                        got = _watch(lab, way, source, chunks, timeout_s, idle_s)
                        figures[f"{way}_screen_intact"] = got["intact"]
                        figures[f"{way}_screen_chunks"] = got["chunks"]
                        figures[f"{way}_screen_s"] = got["screen_s"]
                        if way == "ours":
                            figures["stream_screen_lag_ms_p50"] = round(percentile(got["lags"], 50), 1)
                            figures["stream_screen_lag_ms_p99"] = round(percentile(got["lags"], 99), 1)
                        else:
                            figures[f"{way}_screen_lag_ms_p99"] = round(percentile(got["lags"], 99), 1)
                    figures["blocked_requests"] = len(lab.external_requests)
                finally:
                    context.close()
        finally:
            server.stop()
        log = server.log()
        figures["iopub_rate_exceeded"] = sum(log.count(f"IOPub {kind} rate exceeded") for kind in ("message", "data"))
    figures["load_average"] = round(os.getloadavg()[0], 2)
    return figures

"""How long the report extension takes to put a 1 MB report on screen in JupyterLab + Chromium.

A generated report (:mod:`._render_report`: sections of cited paragraphs, lists and tables, sources with
their passages and text, the real citation check) is saved as the output of a notebook, which is opened
without running anything in a real JupyterLab (:func:`~deepsearch_nb.testing.make_lab_server`, the
extension built next to the imported package linked into the server's own data dir, and checked to be
the bundle the page loaded) in headless Chromium. Then, in the page, the cell's output is replaced with
the report's MIME bundle through the notebook model (``outputs.clear()`` then ``outputs.add()``), so
JupyterLab's output area picks the renderer from its rendermime registry and attaches it, as it does for
a report that arrives from a kernel. One sample is the time from ``add()`` to the report's DOM being
present (a ``MutationObserver``), laid out (a layout forced in the next animation frame) and painted (a
task after that frame), by ``performance.now()``.

* ``render_ms_1mb``: p50 of ``SAMPLES`` such renders of the 1 MB report (after one warm-up each, so the
  extension's code is loaded and compiled); ``render_ms_1mb_max`` their worst. Target: p50 <= 500 ms.
* ``render_settled_ms_1mb``: from ``add()`` to the end of the page's last long task (a
  ``PerformanceObserver`` of ``longtask``, once none came for ``_QUIET_MS``): work the renderer leaves
  for after the first paint (typesetting, JupyterLab's table of contents reading the output) counts here.
* ``render_ms_100kb``: the same as ``render_ms_1mb`` for a 100 KB report.
* ``peer_html_render_ms_1mb`` (and ``_100kb``): JupyterLab rendering the same report's ``text/html``
  fallback (the bundle without the report's own type: what a notebook shows without the extension),
  through the same path, interleaved sample by sample with ours so that a loaded machine slows both;
  ``peer_html_settled_ms_1mb`` its settled time.
* ``render_sections_*`` / ``report_sections_*``, ``render_sources_*`` / ``report_sources_*``: what was on
  the page at the end against what the report holds (a run that did not render the report says so).

Everything listens on 127.0.0.1; the server and the browser are stopped at the end, by PID.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .._report import REPORT_MIME
from ..testing import (
    built_extension_entry,
    extension_name,
    lab_in_chromium,
    save_output_notebook,
)
from ._render_report import report_bundle_of_size
from ._stats import percentile

__all__ = ["LABELS", "run"]

SAMPLES = 7
LARGE_BYTES = 1_000_000
SMALL_BYTES = 100_000
_NOTEBOOK = "render_bench.ipynb"
_SAMPLE_TIMEOUT_MS = 60_000
_QUIET_MS = 300  # no long task for this long after a render: the main thread has settled

LABELS = {
    "report_bytes_1mb": "the large report's document (bytes of JSON)",
    "report_bytes_100kb": "the small report's document (bytes of JSON)",
    "render_samples": "renders timed per figure (after one warm-up)",
    "render_ms_1mb": "1 MB report: output added -> on screen, p50 (ms; target <= 500)",
    "render_ms_1mb_max": "the same, worst sample (ms)",
    "render_settled_ms_1mb": "1 MB report: output added -> the page's last long task over, p50 (ms)",
    "render_ms_100kb": "100 KB report: output added -> on screen, p50 (ms)",
    "peer_html_render_ms_1mb": "JupyterLab rendering the 1 MB report's text/html fallback, p50 (ms)",
    "peer_html_settled_ms_1mb": "the same until the page's last long task is over, p50 (ms)",
    "peer_html_render_ms_100kb": "the same for the 100 KB report, p50 (ms)",
    "render_vs_html_ratio_1mb": "ours / the HTML fallback, 1 MB (p50s)",
    "report_sections_1mb": "numbered sections in the 1 MB report",
    "render_sections_1mb": "numbered section headings on the page after a render",
    "report_sources_1mb": "sources in the 1 MB report",
    "render_sources_1mb": "source entries on the page after a render",
    "load_average": "load average, 1 minute, at the end",
}

# In the page: store the bundles once, then time one render of one of them in cell 0.
_SETUP = """(small) => {
    const cell = window.jupyterapp.shell.currentWidget.content.widgets[0];
    const large = cell.model.outputs.get(0).toJSON();
    window.__renderBench = { large: large.data, small: small };
}"""

_SAMPLE = """async ({size, kind, reportMime, timeout, quiet}) => {
    const nb = window.jupyterapp.shell.currentWidget.content;
    const cell = nb.widgets[0];
    const outputs = cell.model.outputs;
    const data = Object.assign({}, window.__renderBench[size]);
    if (kind === 'html') { delete data[reportMime]; }
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    outputs.clear();
    await frame();
    await frame();
    const done = (root) => {
        if (kind === 'report') {
            const report = root.querySelector('.deepsearch-report');
            return report && report.querySelector('.deepsearch-body') ? report : null;
        }
        const html = root.querySelector('.jp-OutputArea-output.jp-RenderedHTML');
        return html && html.childElementCount > 0 ? html : null;
    };
    const longTasks = [];
    const watcher = new PerformanceObserver((list) => { longTasks.push(...list.getEntries()); });
    watcher.observe({ type: 'longtask' });
    const started = performance.now();
    const shown = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no ' + kind + ' render in time')), timeout);
        const check = () => {
            const el = done(cell.node);
            if (!el) return false;
            observer.disconnect();
            clearTimeout(timer);
            requestAnimationFrame(() => {
                void el.getBoundingClientRect().height;  // style and layout of what is shown
                setTimeout(() => resolve(performance.now()), 0);  // after the frame is painted
            });
            return true;
        };
        const observer = new MutationObserver(check);
        observer.observe(cell.node, { childList: true, subtree: true });
        outputs.add({ output_type: 'display_data', data: data, metadata: {} });
        check();
    });
    // Settled: the end of the last long task (> 50 ms) of the main thread, once none came for QUIET ms.
    for (let seen = -1, waited = 0; waited < 10000; waited += quiet) {
        longTasks.push(...watcher.takeRecords());
        if (seen === longTasks.length) break;
        seen = longTasks.length;
        await new Promise((resolve) => setTimeout(resolve, quiet));
    }
    watcher.disconnect();
    const ends = longTasks.filter((e) => e.startTime >= started).map((e) => e.startTime + e.duration);
    const settled = Math.max(shown, ...ends);
    const root = cell.node;
    const sections = [...root.querySelectorAll('.deepsearch-body h3, .jp-RenderedHTML h1, .jp-RenderedHTML h2')]
        .filter((h) => /^\\d+\\.\\s/.test(h.textContent.trim())).length;
    const sources = root.querySelectorAll('li.deepsearch-source').length;
    return { ms: shown - started, settled: settled - started, sections: sections, sources: sources };
}"""

_LOADED_ENTRY = """(name) => {
    const config = JSON.parse(document.getElementById('jupyter-config-data').textContent);
    const ext = (config.federated_extensions || []).find((e) => e.name === name);
    return ext ? ext.load : null;
}"""


def _sections(doc: dict[str, Any]) -> int:
    return str(doc["report_markdown"]).count('<a id="chapter-')


def _measure(lab: Any, small_bundle: dict[str, Any], samples: int) -> dict[str, list[dict[str, Any]]]:
    lab.page.evaluate(_SETUP, small_bundle)
    times: dict[str, list[dict[str, Any]]] = {}
    for i in range(samples + 1):
        for size in ("large", "small"):
            for kind in ("report", "html"):  # interleaved: a busy moment of the machine hits both
                args = {
                    "size": size,
                    "kind": kind,
                    "reportMime": REPORT_MIME,
                    "timeout": _SAMPLE_TIMEOUT_MS,
                    "quiet": _QUIET_MS,
                }
                result = lab.page.evaluate(_SAMPLE, args)
                if i > 0:
                    times.setdefault(f"{kind}-{size}", []).append(result)
    return times


def _p50(results: list[dict[str, Any]], key: str = "ms") -> float:
    return round(percentile([r[key] for r in results], 50), 1)


def run(
    *, large_bytes: int = LARGE_BYTES, small_bytes: int = SMALL_BYTES, samples: int = SAMPLES
) -> dict[str, float | int]:
    large_doc, large_bundle = report_bundle_of_size(large_bytes)
    small_doc, small_bundle = report_bundle_of_size(small_bytes)
    with lab_in_chromium("render-bench") as lab:
        save_output_notebook(lab.server, _NOTEBOOK, large_bundle)
        lab.open_notebook(_NOTEBOOK, kernel=True)  # the saved output is rendered on opening
        lab.shutdown_kernel()  # nothing runs: the kernel was only started by opening
        loaded, built = lab.page.evaluate(_LOADED_ENTRY, extension_name()), built_extension_entry()
        if loaded != built:
            raise RuntimeError(f"the page loaded the extension's {loaded}, not this package's {built}")
        lab.page.locator(".deepsearch-report .deepsearch-body").first.wait_for(timeout=_SAMPLE_TIMEOUT_MS)
        times = _measure(lab, small_bundle, samples)
    ours = [r["ms"] for r in times["report-large"]]
    last = times["report-large"][-1]
    return {
        "report_bytes_1mb": len(json.dumps(large_doc)),
        "report_bytes_100kb": len(json.dumps(small_doc)),
        "render_samples": samples,
        "render_ms_1mb": _p50(times["report-large"]),
        "render_ms_1mb_max": round(max(ours), 1),
        "render_settled_ms_1mb": _p50(times["report-large"], "settled"),
        "render_ms_100kb": _p50(times["report-small"]),
        "peer_html_render_ms_1mb": _p50(times["html-large"]),
        "peer_html_settled_ms_1mb": _p50(times["html-large"], "settled"),
        "peer_html_render_ms_100kb": _p50(times["html-small"]),
        "render_vs_html_ratio_1mb": round(_p50(times["report-large"]) / max(_p50(times["html-large"]), 0.1), 2),
        "report_sections_1mb": _sections(large_doc),
        "render_sections_1mb": last["sections"],
        "report_sources_1mb": len(large_doc["sources"]),
        "render_sources_1mb": last["sources"],
        "load_average": round(os.getloadavg()[0], 2),
    }

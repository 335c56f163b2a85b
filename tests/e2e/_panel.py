"""Helpers that watch a deepsearch panel (and the report that replaces it) from inside the page.

A ``MutationObserver`` on the cell records every change of what a person sees - the panel's text length,
the status text, whether the HITL box is shown, whether the final report is there - with
``performance.now()`` time stamps, and the time of a click on the cancel button. Tests then assert on
that trace (text grew, CANCELLED within 1 s of the click, nothing changed after the end) instead of
sampling the page from Python, which would miss fast changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import deepsearch_nb
from deepsearch_nb.testing import LabPage

REPORT_MIME = deepsearch_nb.REPORT_MIME  # the one source of the MIME type

# A "final report" is a `.deepsearch-report` that is not inside the live panel.
_INSTALL = """
(index) => {
    const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
    const root = cell.node;
    const shown = (el) => !!el && el.getClientRects().length > 0;
    const trace = { events: [], clickAt: null };
    window.__dsTrace = trace;
    let last = '';
    const snap = () => {
        const panel = root.querySelector('.deepsearch-panel');
        const statuses = [...root.querySelectorAll('.deepsearch-status')].map((e) => e.textContent.trim());
        const report = [...root.querySelectorAll('.deepsearch-report')].find((e) => !e.closest('.deepsearch-panel'));
        const area = root.querySelector('.jp-OutputArea');
        let stream = 0;
        if (panel) panel.querySelectorAll('.deepsearch-group-body').forEach((b) => { stream += b.textContent.length; });
        const ev = {
            panel: !!panel,
            len: panel ? panel.textContent.length : 0,
            stream: stream,
            outLen: area ? area.textContent.length : 0,
            status: statuses.join('|'),
            hitl: shown(root.querySelector('.deepsearch-hitl')),
            report: !!report,
        };
        const key = JSON.stringify(ev);
        if (key !== last) {
            last = key;
            ev.t = performance.now();
            trace.events.push(ev);
        }
    };
    new MutationObserver(snap).observe(root, {
        subtree: true, childList: true, characterData: true, attributes: true,
    });
    root.addEventListener('click', (event) => {
        if (event.target.closest && event.target.closest('.deepsearch-cancel')) {
            trace.clickAt = performance.now();
        }
    }, true);
    snap();
}
"""


@dataclass(frozen=True)
class Event:
    t: float  # ms, performance.now()
    panel: bool
    len: int  # all the text of the panel (status, buttons, messages included)
    stream: int  # the streamed text only (the stream view's groups)
    out_len: int
    status: str
    hitl: bool
    report: bool


def install_trace(lab: LabPage, index: int) -> None:
    """Start recording what cell ``index`` shows (call before running the cell)."""
    lab.page.evaluate(_INSTALL, index)


def trace(lab: LabPage) -> tuple[list[Event], float | None]:
    """The recorded events and the cancel click time (ms), if any."""
    raw: dict[str, Any] = lab.page.evaluate("() => window.__dsTrace")
    events = [
        Event(e["t"], e["panel"], e["len"], e["stream"], e["outLen"], e["status"], e["hitl"], e["report"])
        for e in raw["events"]
    ]
    return events, raw["clickAt"]


def wait_trace(lab: LabPage, predicate_js: str, *, timeout_ms: int = 60_000) -> None:
    """Wait until the latest trace event satisfies ``predicate_js`` (a JS expression over ``e``)."""
    lab.page.wait_for_function(
        f"() => {{ const ev = window.__dsTrace.events; const e = ev[ev.length - 1]; return !!e && ({predicate_js}); }}",
        timeout=timeout_ms,
        polling=50,
    )


def final_report(lab: LabPage, index: int) -> Any:
    """The report output rendered by the extension: its widget is the output node itself. (The HTML
    fallback also carries ``deepsearch-report``, but on an element inside ``.jp-RenderedHTMLCommon``.)"""
    return lab.cell_node(index).locator(".jp-OutputArea-output.deepsearch-report")


def fallback_output(lab: LabPage, index: int) -> Any:
    """The output as JupyterLab's own HTML / Markdown renderer shows it."""
    return lab.cell_node(index).locator(".jp-OutputArea-output.jp-RenderedHTMLCommon")


def citations_resolve(lab: LabPage, index: int) -> list[dict[str, Any]]:
    """Every citation link of the cell's final report, and whether its target is in ``.deepsearch-sources``."""
    found: list[dict[str, Any]] = lab.page.evaluate(
        """(index) => {
            const root = window.jupyterapp.shell.currentWidget.content.widgets[index].node;
            const reports = [...root.querySelectorAll('.deepsearch-report')];
            const report = reports.find((e) => !e.closest('.deepsearch-panel'));
            if (!report) return [];
            return [...report.querySelectorAll('a.deepsearch-citation')].map((a) => {
                const href = a.getAttribute('href') || '';
                const id = decodeURIComponent(href.slice(1));
                const ids = [...report.querySelectorAll('[id]')];
                const target = href.startsWith('#') ? ids.find((e) => e.id === id) : null;
                return {
                    text: a.textContent, href,
                    target_in_sources: !!target && !!target.closest('.deepsearch-sources'),
                    target_text: target ? target.textContent : null,
                };
            });
        }""",
        index,
    )
    return found


def grew_while_running(events: list[Event], *, until: float | None = None) -> list[int]:
    """The streamed text lengths seen while RUNNING (in order, distinct), up to time ``until``."""
    lengths: list[int] = []
    for e in events:
        if until is not None and e.t > until:
            break
        if e.panel and "RUNNING" in e.status and (not lengths or e.stream != lengths[-1]):
            lengths.append(e.stream)
    return lengths

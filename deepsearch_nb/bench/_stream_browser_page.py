"""The page side of ``bench stream-browser``: what reached the screen of one cell, and when.

A ``MutationObserver`` on the cell's output (and on every shadow root under it: Panel renders through
Bokeh, whose views live in shadow DOM, which an observer of the light DOM never sees) reads the output's
text after every change, skipping ``<script>`` and ``<style>`` (Panel's output carries its document as
JSON in a script, text included), and records the ``Date.now()`` at which each chunk's marker
(``K00042K``) first appeared: a millisecond clock of the same machine as the kernel's ``time.time()``.
"Visible" is "in the DOM", at the observer's callback (before the next paint, by at most a frame). The
text is scanned from where the previous scan ended (the streams only append), so a 100 KB text read
2,000 times costs the page little; a 50 ms timer scans as well, in case a shadow root was created without
a change the observers could see. The last text that held a marker is kept: ours replaces its panel with
the report when the run ends, so that is what the panel showed last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Screen", "install", "last_cell_index", "rate_notices", "read", "status", "wait_ready"]

_INSTALL = """
({index, count, selector}) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  const root = cell.node.querySelector('.jp-Cell-outputWrapper') || cell.node;
  const MARK = /K(\\d{5})K/g;
  const SKIP = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT']);
  const tr = {seen: new Array(count).fill(0), n: 0, text: '', marked: '', changedAt: 0, scans: 0, busyMs: 0};
  const observed = new WeakSet();
  const observer = new MutationObserver(() => scan());
  const watch = (node) => {
    if (observed.has(node)) return;
    observed.add(node);
    observer.observe(node, {subtree: true, childList: true, characterData: true});
  };
  const collect = (node, parts) => {
    if (node.nodeType === 3) { parts.push(node.data); return; }
    if (node.nodeType === 1) {
      if (SKIP.has(node.tagName)) return;
      if (node.shadowRoot) { watch(node.shadowRoot); collect(node.shadowRoot, parts); }
    } else if (node.nodeType !== 11) return;
    for (let c = node.firstChild; c; c = c.nextSibling) collect(c, parts);
  };
  const scan = () => {
    const t0 = performance.now();
    const parts = [];
    for (const node of (selector ? root.querySelectorAll(selector) : [root])) collect(node, parts);
    const text = parts.join('');
    tr.scans += 1;
    if (text !== tr.text) {
      const now = Date.now();
      MARK.lastIndex = text.length >= tr.text.length ? Math.max(0, tr.text.length - 16) : 0;
      let found = false;
      for (let m = MARK.exec(text); m !== null; m = MARK.exec(text)) {
        found = true;
        const i = Number(m[1]);
        if (i < count && tr.seen[i] === 0) { tr.seen[i] = now; tr.n += 1; }
      }
      if (found || /K\\d{5}K/.test(text)) tr.marked = text;
      tr.text = text;
      tr.changedAt = now;
    }
    tr.busyMs += performance.now() - t0;
  };
  watch(root);
  const timer = setInterval(scan, 50);
  tr.stop = () => { clearInterval(timer); observer.disconnect(); scan(); };
  window.__dsStreamBench = tr;
  scan();
}
"""


@dataclass(frozen=True)
class Screen:
    """What one cell showed: each chunk's first-seen time (ms since the epoch, 0 = never), the last text
    that held a marker, when the text last changed, and what the watching cost the page."""

    seen: list[int]
    text: str
    changed_at_ms: int
    scans: int
    busy_ms: float

    @property
    def count(self) -> int:
        return sum(1 for t in self.seen if t)


def last_cell_index(lab: Any) -> int:
    index: int = lab.page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length - 1")
    return index


def install(lab: Any, index: int, count: int, selector: str | None) -> None:
    """Watch cell ``index``'s output (only the elements matching ``selector`` when given)."""
    lab.page.evaluate(_INSTALL, {"index": index, "count": count, "selector": selector})


def status(lab: Any) -> tuple[int, int]:
    """(chunks seen so far, when the text last changed in ms since the epoch)."""
    n, changed = lab.page.evaluate("() => [window.__dsStreamBench.n, window.__dsStreamBench.changedAt]")
    return int(n), int(changed)


def read(lab: Any) -> Screen:
    """Stop watching (after one last scan) and return what was seen."""
    got = lab.page.evaluate(
        """() => {
            const tr = window.__dsStreamBench;
            tr.stop();
            return {seen: tr.seen, text: tr.marked, changed: tr.changedAt, scans: tr.scans, busy: tr.busyMs};
        }"""
    )
    return Screen(
        seen=[int(t) for t in got["seen"]],
        text=str(got["text"]),
        changed_at_ms=int(got["changed"]),
        scans=int(got["scans"]),
        busy_ms=float(got["busy"]),
    )


def wait_ready(lab: Any, index: int, selector: str, ready_text: str, timeout_ms: int) -> bool:
    """Whether cell ``index`` shows ``selector`` (and, when given, ``ready_text`` in its deep text)."""
    try:
        lab.page.wait_for_function(
            """({index, selector, ready}) => {
                const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
                const deep = (node) => {
                    if (node.nodeType === 3) return node.data;
                    if (node.nodeType === 1 && ['SCRIPT', 'STYLE'].includes(node.tagName)) return '';
                    let s = node.shadowRoot ? deep(node.shadowRoot) : '';
                    for (let c = node.firstChild; c; c = c.nextSibling) s += deep(c);
                    return s;
                };
                const el = cell.node.querySelector(selector);
                return !!el && (!ready || deep(el).includes(ready));
            }""",
            arg={"index": index, "selector": selector, "ready": ready_text},
            timeout=timeout_ms,
            polling=100,
        )
    except Exception:  # playwright's TimeoutError: the output did not render
        return False
    return True


def rate_notices(lab: Any) -> int:
    """How many "IOPub message/data rate exceeded" notices the notebook's outputs hold: the server writes
    one to the client each time it starts dropping a kernel's IOPub messages (above 1,000 messages/s by
    default), into the cell of the message's parent."""
    count: int = lab.page.evaluate(
        """() => {
            let n = 0;
            for (const cell of window.jupyterapp.shell.currentWidget.content.widgets) {
                if (!cell.model.outputs) continue;
                const text = JSON.stringify(cell.model.outputs.toJSON());
                n += (text.match(/IOPub (message|data) rate exceeded/g) || []).length;
            }
            return n;
        }"""
    )
    return count

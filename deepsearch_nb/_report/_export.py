"""Exports of a report for people without Jupyter: Markdown, a standalone HTML page, a Word document.

Each export carries the report's sources and its provenance (agent, model, corpus fingerprint, the
answers and who gave them, date, duration, transcript), so a reader can tell how it was made.

The HTML page is built to be opened anywhere, including offline and from a mail attachment: everything
that comes from an agent is rendered by markdown-it with raw HTML off and then passes nh3 (tags,
attributes and URL schemes allowlisted); the only style is one constant ``<style>`` block; there is no
script and no image, and a Content-Security-Policy of ``default-src 'none'`` stops the browser from
loading anything even if something slipped through. Citations link to the page's own sources list
(``#source-N``), not out to the web.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nh3

from .._errors import ConfigurationError
from .._protocol import Source
from ._render import report_markdown
from ._render_cite import _Cite
from ._render_html import _id_prefix, _link_anchors, _source_details
from ._render_view import (
    _FEEDBACK,
    _PARSER,
    _STAGES,
    _body,
    _citations,
    _destination,
    _duration,
    _escape_inline,
    _linkable,
    _map_prose,
    _text,
    _View,
)

__all__ = ["export_docx", "export_html", "export_markdown", "provenance_rows"]

_TAGS = {
    "a", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "section", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_ATTRIBUTES = {
    "a": {"href", "title"},
    "li": {"id"},
    "ol": {"start"},
    "p": {"class"},
    "div": {"class"},
    **{h: {"id"} for h in _HEADINGS},
}
_STYLE = """<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.55;max-width:46em;margin:2em auto;
padding:0 1em;color:#1f1f1f}
h1{font-size:1.7em;margin-bottom:.2em}h2{font-size:1.3em;margin-top:1.6em}h3{font-size:1.1em}
.meta{color:#555;font-size:.9em}.question{border-left:3px solid #999;padding:.1em .8em;margin:1em 0}
.error{border-left:3px solid #c62828;padding:.1em .8em}
a{color:#1a5fb4}sup.cite a{text-decoration:none}
li:target{background:#fff3c4}pre{background:#f3f3f3;padding:.5em;overflow-x:auto}
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2em .5em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}dd{margin:0}
a[href^="#source-"][title]{position:relative}
a[href^="#source-"][title]:hover::after,a[href^="#source-"][title]:focus::after{content:attr(title);position:absolute;
left:0;top:1.4em;z-index:1;width:26em;padding:.4em .6em;background:#fffbe6;border:1px solid #c9b458;color:#1f1f1f;
font-size:.85em;line-height:1.4;white-space:normal}
</style>"""
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; base-uri 'none'"


def provenance_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """How the report was made, as (label, text) rows: every export shows the same ones."""
    prov = doc.get("provenance")
    prov = prov if isinstance(prov, Mapping) else {}
    rows = [("Agent", _text(prov.get("agent") or (doc.get("agent") or {}).get("kind")))]
    if prov.get("model"):
        rows.append(("Model", _text(prov.get("model"))))
    if prov.get("llm_endpoint"):
        rows.append(("LLM endpoint", _text(prov.get("llm_endpoint"))))
    corpus = prov.get("corpus")
    if isinstance(corpus, Mapping):
        count = corpus.get("documents")
        rows.append(("Corpus", f"{_text(corpus.get('path'))} ({_text(count)} documents)"))
        rows.append(("Corpus fingerprint", f"sha256 {_text(corpus.get('sha256'))}"))
    listed = prov.get("answers")
    answers: list[Any] = listed if isinstance(listed, list) else []
    for number, answer in enumerate(a for a in answers if isinstance(a, Mapping)):
        stage = _STAGES.get(_text(answer.get("stage")), "Question")
        feedback = _FEEDBACK.get(_text(answer.get("feedback")), _text(answer.get("feedback")))
        rows.append((f"Answer {number + 1}", f"{stage}: {feedback} (by {_text(answer.get('by')) or 'person'})"))
    found = doc.get("timings")
    timings: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    rows.append(("Date", _text(prov.get("date") or timings.get("started_at"))))
    elapsed = prov.get("duration_s", timings.get("elapsed_s"))
    if isinstance(elapsed, int | float) and not isinstance(elapsed, bool):
        rows.append(("Duration", _duration(float(elapsed))))
    transcript = prov.get("transcript") or doc.get("transcript")
    if transcript:
        rows.append(("Transcript", _text(transcript)))
    rows.append(("deepsearch_nb", _text(doc.get("package_version"))))
    return [(k, " ".join(v.split())) for k, v in rows if v and v.strip()]


# --- Markdown -------------------------------------------------------------------------------------


def export_markdown(doc: Mapping[str, Any]) -> str:
    """The Markdown fallback (report, sources list, questions and answers) with a provenance section."""
    rows = [f"- {_escape_inline(k)}: {_escape_inline(v)}" for k, v in provenance_rows(doc)]
    return report_markdown(doc).rstrip("\n") + "\n\n## Provenance\n\n" + "\n".join(rows) + "\n"


# --- HTML -----------------------------------------------------------------------------------------


def _anchor_citation(number: int, source: Source | None, cite: _Cite | None = None) -> str:
    """A citation as a link to the sources list of the same page (``[N]`` as text when N is unknown);
    its evidence is the link's title, which the page's style also shows on keyboard focus."""
    mark = _escape_inline(cite.mark) if cite is not None else ""
    if source is None:
        return f"\\[{number}{mark}\\]"
    title = ""
    if cite is not None and cite.passage:
        title = ' "' + _escape_inline(cite.tooltip()).replace('"', '\\"') + '"'
    return f"[\\[{number}{mark}\\]](#source-{number}{title})"


def _md(text: str, view: _View | None = None, anchors: tuple[tuple[int, str], ...] = ()) -> str:
    """Agent Markdown as HTML (raw HTML off); the report's chapter anchors become heading ids."""
    if view is not None:
        citer = view.citer()
        text = _map_prose(text, lambda chunk: _citations(chunk, view, _anchor_citation, citer))
    tokens = _PARSER.parse(text)
    if anchors and view is not None:
        _link_anchors(tokens, text, anchors, _id_prefix(view))
    rendered: str = _PARSER.renderer.render(tokens, _PARSER.options, {})
    return rendered


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def export_html(doc: Mapping[str, Any]) -> str:
    """The report as one standalone, sanitised HTML page (see the module docstring)."""
    view = _View.of(doc)
    title = view.title or "Research report"
    meta = " · ".join(
        [view.status, f"{len(view.sources)} sources", *([view.citation_summary] if view.citation_summary else [])]
    )
    parts = [f"<h1>{_esc(title)}</h1>", f'<p class="meta">{_esc(meta)}</p>']
    if view.question:
        parts.append(f'<div class="question"><strong>Question:</strong> {_esc(view.question)}</div>')
    if view.error:
        parts.append(f'<div class="error"><strong>Note:</strong> {_esc(view.error)}</div>')
    body = _body(view)
    written = _md(body.text, view, body.anchors) if body.text.strip() else "<p><em>No report was written.</em></p>"
    parts.append(written)
    if view.sources:
        items = []
        for s in view.sources:
            link = (
                f'<a href="{_esc(_destination(s.url))}">{_esc(s.title)}</a>'
                if _linkable(s.url) and not s.url.startswith("#")
                else _esc(s.title) + (f" — {_esc(s.url)}" if s.url and s.url != s.title else "")
            )
            items.append(f'<li id="source-{s.index}">[{s.index}] {link}{_source_details(s)}</li>')
        parts.append(f"<h2>Sources</h2><ul>{''.join(items)}</ul>")
    if view.hitl:
        parts.append("<h2>Questions and answers</h2>")
        for number, entry in enumerate(view.hitl, start=1):
            stage = _STAGES.get(_text(entry.get("stage")), "Question")
            asked = _text(entry.get("questions")).strip() or _text(entry.get("prompt")).strip()
            feedback = _FEEDBACK.get(_text(entry.get("feedback")), _text(entry.get("feedback")))
            message = _text(entry.get("message")).strip()
            parts.append(f"<h3>{number}. {_esc(stage)}</h3><p><em>{_esc(' '.join(asked.split()))}</em></p>")
            answer = f"<pre><code>{_esc(message)}</code></pre>" if message.startswith("{") else _md(message)
            parts.append(f"<p><strong>Answer ({_esc(feedback)}):</strong></p>" + (answer if message else ""))
    rows = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in provenance_rows(doc))
    parts.append(f"<h2>Provenance</h2><dl>{rows}</dl>")
    fragment: str = nh3.clean(
        "".join(parts),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="referrer" content="no-referrer">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{_esc(title)}</title>'
        f"{_STYLE}</head>\n<body>\n{fragment}\n</body></html>\n"
    )


# --- Word -----------------------------------------------------------------------------------------


def export_docx(doc: Mapping[str, Any], path: str | Path) -> Path:
    """The report as a Word document: headings as Word headings, ``[N]`` citations, sources, provenance.

    Text is written as text (python-docx escapes it for the XML), so nothing in the report is live.
    """
    try:
        import docx
    except ImportError:
        raise ConfigurationError(
            "Writing .docx needs python-docx: pip install 'deepsearch-nb[docx]' (or pip install python-docx)."
        ) from None
    view = _View.of(doc)
    document = docx.Document()
    document.add_heading(_clean(view.title or "Research report"), level=0)
    if view.question:
        para = document.add_paragraph()
        para.add_run("Question: ").bold = True
        para.add_run(_clean(view.question))
    if view.error:
        document.add_paragraph(_clean(f"Note: {view.error}"))
    body = _citations(_body(view).text, view, lambda n, s, c: f"[{n}{c.mark if c else ''}]")
    in_code = False
    for line in body.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        stripped = line.strip()
        heading = len(stripped) - len(stripped.lstrip("#"))
        if not in_code and 1 <= heading <= 6 and stripped[heading : heading + 1] == " ":
            document.add_heading(_plain(stripped[heading:].strip()), level=min(heading, 4))
        elif stripped.startswith(("- ", "* ")) and not in_code:
            document.add_paragraph(_plain(stripped[2:]), style="List Bullet")
        elif stripped:
            document.add_paragraph(_clean(line) if in_code else _plain(stripped))
    if view.sources:
        document.add_heading("Sources", level=1)
        for s in view.sources:
            document.add_paragraph(_clean(f"[{s.index}] {s.title} — {s.url}"))
    if view.hitl:
        document.add_heading("Questions and answers", level=1)
        for number, entry in enumerate(view.hitl, start=1):
            stage = _STAGES.get(_text(entry.get("stage")), "Question")
            feedback = _FEEDBACK.get(_text(entry.get("feedback")), _text(entry.get("feedback")))
            document.add_paragraph(_clean(f"{number}. {stage}: {feedback} {_text(entry.get('message'))}".strip()))
    document.add_heading("Provenance", level=1)
    for key, value in provenance_rows(doc):
        para = document.add_paragraph()
        para.add_run(f"{key}: ").bold = True
        para.add_run(_clean(value))
    target = Path(path)
    document.save(str(target))
    return target


def _clean(text: str) -> str:
    """Text Word's XML can hold: control characters (other than tab and newline) dropped."""
    return "".join(c for c in text if c in "\t\n" or (ord(c) >= 0x20 and ord(c) not in (0xFFFE, 0xFFFF)))


def _plain(line: str) -> str:
    """A Markdown line as Word text: links become their text, emphasis and code marks go, ``[N]`` stays."""
    return _clean(_EMPHASIS.sub("", _LINK.sub(r"\1", line)))

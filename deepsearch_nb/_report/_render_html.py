"""The ``text/html`` fallback of a report: markdown-it with raw HTML off, then nh3 with a small allowlist.

Only the constant ``<style>`` block is added after sanitising; links may be http, https, mailto or
relative; no images, so nothing is fetched from another host.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

import nh3
from markdown_it.token import Token

from .._protocol import Source
from ._render_cite import _Cite
from ._render_view import (
    _FEEDBACK,
    _PARSER,
    _SCHEME,
    _STAGES,
    _body,
    _citations,
    _config_json,
    _destination,
    _details,
    _error_label,
    _escape_inline,
    _Link,
    _linkable,
    _map_prose,
    _opens,
    _status_parts,
    _text,
    _View,
)

# --- HTML -----------------------------------------------------------------------------------------

_STATUSES = ("RUNNING", "WAITING_USER_INPUT", "CANCELLED", "COMPLETED", "FAILED")
_TAGS = {
    "a", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "section", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip  # no img: a remote image would make every viewer of the notebook send a request
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "td": {"style"},
    "th": {"style"},
    "li": {"id"},
    **{h: {"id"} for h in _HEADINGS},
}
_CLASSES = {
    "div": {
        "deepsearch-report", "deepsearch-header", "deepsearch-meta", "deepsearch-question", "deepsearch-error",
        "deepsearch-pending", "deepsearch-body", "deepsearch-empty",
    },
    "span": {"deepsearch-status", "deepsearch-source-index", "deepsearch-source-url"}
    | {f"deepsearch-status-{s.lower()}" for s in _STATUSES},
    "details": {"deepsearch-hitl", "deepsearch-run"},
    "section": {"deepsearch-sources", "deepsearch-exchange"},
}  # fmt: skip
_STYLE = """<style>
.deepsearch-report{color:var(--jp-content-font-color1,inherit);font-family:var(--jp-content-font-family,inherit);
line-height:1.5;max-width:60em}
.deepsearch-report .deepsearch-meta{color:var(--jp-ui-font-color2,inherit);font-size:.9em;margin:.2em 0 .6em}
.deepsearch-report .deepsearch-status{display:inline-block;padding:0 .55em;border:1px solid currentColor;
border-radius:.8em;font-size:.85em;font-weight:600;letter-spacing:.03em}
.deepsearch-report .deepsearch-status-completed{color:var(--jp-success-color1,#2e7d32)}
.deepsearch-report .deepsearch-status-failed{color:var(--jp-error-color1,#c62828)}
.deepsearch-report .deepsearch-status-cancelled{color:var(--jp-warn-color1,#b26a00)}
.deepsearch-report .deepsearch-status-waiting_user_input,.deepsearch-report .deepsearch-status-running{
color:var(--jp-info-color1,#1565c0)}
.deepsearch-report .deepsearch-question,.deepsearch-report .deepsearch-error,.deepsearch-report .deepsearch-pending{
border-left:3px solid var(--jp-border-color1,rgba(128,128,128,.5));padding:.1em .8em;margin:.5em 0}
.deepsearch-report .deepsearch-error{border-left-color:var(--jp-error-color1,#c62828)}
.deepsearch-report .deepsearch-pending{border-left-color:var(--jp-info-color1,#1565c0)}
.deepsearch-report .deepsearch-body{border-top:1px solid var(--jp-border-color2,rgba(128,128,128,.3));margin-top:.6em}
.deepsearch-report .deepsearch-body h1{font-size:1.5em}.deepsearch-report .deepsearch-body h2{font-size:1.25em}
.deepsearch-report details{border-top:1px solid var(--jp-border-color2,rgba(128,128,128,.3));padding:.4em 0}
.deepsearch-report summary{cursor:pointer;font-weight:600}
.deepsearch-report pre{background:var(--jp-layout-color2,rgba(128,128,128,.12));padding:.5em;overflow-x:auto}
.deepsearch-report a{color:var(--jp-content-link-color,#1a73e8)}
.deepsearch-report .deepsearch-source-index{color:var(--jp-ui-font-color2,inherit);margin-right:.3em}
.deepsearch-report .deepsearch-source-url{color:var(--jp-ui-font-color2,inherit);font-size:.85em;margin-left:.4em;
word-break:break-all}
.deepsearch-report table{border-collapse:collapse}
.deepsearch-report td,.deepsearch-report th{border:1px solid var(--jp-border-color2,rgba(128,128,128,.4));
padding:.2em .5em}
</style>"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _esc_lines(text: str) -> str:
    return "<br>".join(_esc(line) for line in text.split("\n"))


def _sanitise(fragment: str) -> str:
    """The one gate every HTML string passes: allowlisted tags, attributes, classes and URL schemes."""
    cleaned: str = nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return cleaned


def _md_html(text: str, view: _View | None = None, anchors: Sequence[tuple[int, str]] = ()) -> str:
    """Render agent Markdown (raw HTML off); report headings get the ids their TOC links point to."""
    if view is not None:
        citer = view.citer()
        text = _map_prose(text, lambda chunk: _citations(chunk, view, _anchor(view), citer))
    tokens = _PARSER.parse(text)
    if anchors and view is not None:
        _link_anchors(tokens, text, anchors, _id_prefix(view))
    if view is not None:  # the report's headings nest under its <h1> title: "# 1. Costs" is an <h2>
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(6, int(token.tag[1]) + 1)}"
    rendered: str = _PARSER.renderer.render(tokens, _PARSER.options, {})
    return rendered


def _id_prefix(view: _View) -> str:
    """Ids unique per report: a notebook may hold several reports with the same chapter anchors."""
    seed = f"{view.conversation_id}\n{view.started_at}\n{view.question}".encode()
    return f"ds-{hashlib.sha1(seed, usedforsecurity=False).hexdigest()[:8]}-"


def _link_anchors(tokens: list[Token], text: str, anchors: Sequence[tuple[int, str]], prefix: str) -> None:
    """Give each heading the id of the ``<a id>`` that followed it, and point ``#id`` links at it."""
    lines = text.split("\n")
    headings = [t for t in tokens if t.type == "heading_open" and t.map]
    ids: dict[str, str] = {}
    for line, anchor in anchors:
        safe = prefix + re.sub(r"[^A-Za-z0-9_-]", "-", anchor)
        for heading in reversed(headings):
            assert heading.map is not None
            start, end = heading.map
            if start <= line and all(not lines[k].strip() for k in range(end, min(line, len(lines)))):
                if heading.attrGet("id") is None:
                    heading.attrSet("id", safe)
                ids[anchor] = safe
                break
            if start <= line:
                break
    for token in tokens:
        for child in token.children or ():
            href = child.attrGet("href") if child.type == "link_open" else None
            if isinstance(href, str) and href.startswith("#") and href[1:] in ids:
                child.attrSet("href", "#" + ids[href[1:]])


def _html_question(entry: Mapping[str, Any]) -> str:
    out = []
    prompt = _text(entry.get("prompt")).strip()
    if prompt:
        out.append(f"<p><em>{_esc(' '.join(prompt.split()))}</em></p>")
    questions = _text(entry.get("questions")).strip()
    if questions:
        out.append(_md_html(questions))
    outline = entry.get("outline")
    if isinstance(outline, Mapping):
        title = " ".join(_text(outline.get("title")).split())
        if title:
            out.append(f"<p><strong>{_esc(title)}</strong></p>")
        sections = outline.get("sections")
        items = []
        for section in sections if isinstance(sections, list) else []:
            if isinstance(section, Mapping):
                description = " ".join(_text(section.get("description")).split())
                items.append(
                    f"<li>{_esc(' '.join(_text(section.get('title')).split()))}"
                    + (f" — {_esc(description)}" if description else "")
                    + "</li>"
                )
        if items:
            out.append("<ol>" + "".join(items) + "</ol>")
    return "".join(out)


def _html_answer(entry: Mapping[str, Any]) -> str:
    feedback = _text(entry.get("feedback"))
    message = _text(entry.get("message")).strip()
    label = _esc(_FEEDBACK.get(feedback, feedback))
    if not message:
        return f"<p><strong>Answer:</strong> {label}</p>"
    if feedback == "revise_outline" or message.startswith("{"):
        return f"<p><strong>Answer ({label}):</strong></p><pre><code>{_esc(message)}</code></pre>"
    return f"<p><strong>Answer ({label}):</strong></p>{_md_html(message)}"


def _source_id(view: _View, index: int) -> str:
    return f"{_id_prefix(view)}source-{index}"


def _anchor(view: _View) -> _Link:
    """Citations as links to the source's entry on the same page (which holds its passage), not out to a
    path that would 404 (issue 12); the evidence stays in the link's title; ``[N]`` as text when N is not
    listed."""

    def link(number: int, source: Source | None, cite: _Cite | None = None) -> str:
        mark = _escape_inline(cite.mark) if cite is not None else ""
        if source is None:
            return f"\\[{number}{mark}\\]"
        tip = cite.tooltip() if cite is not None and cite.passage else source.title
        title = _escape_inline(tip).replace('"', '\\"')
        return f'[\\[{number}{mark}\\]](#{_source_id(view, number)} "{title}")'

    return link


def _source_details(source: Source) -> str:
    """A folded ``<details>`` with the source's quoted passages and its document (escaped), or ``""``:
    the HTML fallback and the standalone page both open a source this way."""
    passages, document = _opens(source)
    if not passages and not document:
        return ""
    quoted = "".join(f"<blockquote>{_esc_lines(p)}</blockquote>" for p in passages)
    text = f"<p><strong>The document:</strong></p><pre>{_esc(document)}</pre>" if document else ""
    return f"<details><summary>Show the passage and the document</summary>{quoted}{text}</details>"


def _html_sources(view: _View) -> str:
    items = []
    for s in view.sources:
        index = f'<span class="deepsearch-source-index">[{s.index}]</span>'
        if _linkable(s.url) and _SCHEME.match(s.url):  # a web page; a relative path would open nothing
            title = f' title="{_esc(s.query)}"' if s.query else ""
            entry = f'{index}<a href="{_esc(_destination(s.url))}"{title}>{_esc(s.title)}</a>'
        else:
            url = f'<span class="deepsearch-source-url">{_esc(s.url)}</span>' if s.url and s.url != s.title else ""
            entry = f"{index}{_esc(s.title)}{url}"
        entry += _source_details(s)
        items.append(f'<li id="{_source_id(view, s.index)}">{entry}</li>')
    return f'<section class="deepsearch-sources"><h2>Sources</h2><ul>{"".join(items)}</ul></section>'


def _html(view: _View) -> str:
    status = view.status
    status_class = f" deepsearch-status-{status.lower()}" if status in _STATUSES else ""
    meta = _status_parts(view, with_time=True)[1:]
    parts = [
        '<div class="deepsearch-report"><div class="deepsearch-header">',
        f"<h1>{_esc(view.title or 'Research report')}</h1>",
        f'<div class="deepsearch-meta"><span class="deepsearch-status{status_class}">{_esc(status)}</span>'
        + "".join(f" · {_esc(part)}" for part in meta)
        + "</div>",
    ]
    if view.question:
        parts.append(f'<div class="deepsearch-question"><strong>Question:</strong> {_esc_lines(view.question)}</div>')
    if view.error:
        parts.append(f'<div class="deepsearch-error"><strong>{_error_label(view)}:</strong> {_esc(view.error)}</div>')
    if view.pending is not None:
        stage = _STAGES.get(_text(view.pending.get("stage")), "Question")
        parts.append(
            f'<div class="deepsearch-pending"><strong>Waiting for your answer ({stage}):</strong>'
            f"{_html_question(view.pending)}</div>"
        )
    parts.append("</div>")
    body = _body(view)
    if body.text.strip():
        parts.append(f'<div class="deepsearch-body">{_md_html(body.text, view, body.anchors)}</div>')
    else:
        parts.append('<div class="deepsearch-body deepsearch-empty"><p><em>No report was written.</em></p></div>')
    if view.sources:
        parts.append(_html_sources(view))
    if view.hitl:
        exchanges = [
            f'<section class="deepsearch-exchange"><h3>{number}. '
            f"{_STAGES.get(_text(entry.get('stage')), 'Question')}</h3>{_html_question(entry)}{_html_answer(entry)}"
            "</section>"
            for number, entry in enumerate(view.hitl, start=1)
        ]
        parts.append(
            f'<details class="deepsearch-hitl"><summary>Questions and answers ({len(view.hitl)})</summary>'
            + "".join(exchanges)
            + "</details>"
        )
    rows = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in _details(view))
    parts.append(
        f'<details class="deepsearch-run"><summary>Run details</summary><dl>{rows}</dl>'
        f"<p>Agent configuration (secrets removed):</p><pre><code>{_esc(_config_json(view))}</code></pre></details>"
    )
    parts.append("</div>")
    return _STYLE + _sanitise("".join(parts))

"""The report's MIME bundle: the document plus fallbacks that read well where no custom renderer runs.

A notebook output keeps every MIME type it was given; each viewer shows the richest one it knows:
JupyterLab with our extension the document itself, JupyterLab without it, nbconvert and GitHub the
``text/html`` (or ``text/markdown``), terminals and nbval ``text/plain``.

Everything in a document except its structure comes from an agent, i.e. from web pages an attacker may
write. So no fallback may carry live HTML or script URLs:

* ``text/html`` is rendered by markdown-it with raw HTML off (tags in the report become text), then the
  whole fragment goes through ``nh3`` with a small allowlist (links: http, https, mailto, relative).
  Only the constant ``<style>`` block is added after sanitising.
* ``text/markdown`` may reach a viewer that passes raw HTML through, so outside code blocks ``<`` and
  ``&`` are escaped and link destinations with other schemes than http/https/mailto are broken.
* ``text/plain`` is the raw text, never rendered; it leaves out times and ids so that nbval comparisons
  of a re-run notebook stay stable.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .._protocol import parse_reference_articles
from ._document import REPORT_MIME

__all__ = ["report_bundle", "report_html", "report_markdown", "report_plain"]


def report_bundle(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The MIME bundle of a report document: the document itself and three fallbacks."""
    view = _View.of(doc)
    return {
        REPORT_MIME: copy.deepcopy(dict(doc)),
        "text/markdown": _markdown(view),
        "text/html": _html(view),
        "text/plain": _plain(view),
    }


def report_markdown(doc: Mapping[str, Any]) -> str:
    """The standalone Markdown document (plain CommonMark plus tables; raw HTML neutralised)."""
    return _markdown(_View.of(doc))


def report_html(doc: Mapping[str, Any]) -> str:
    """The sanitised HTML fragment (with its small style block)."""
    return _html(_View.of(doc))


def report_plain(doc: Mapping[str, Any]) -> str:
    """The plain-text form: status, question, report and sources; no times or ids."""
    return _plain(_View.of(doc))


# --- a tolerant view of a document ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    index: int
    title: str
    url: str
    query: str


@dataclass(frozen=True, slots=True)
class _View:
    """What the renderers need, read defensively: a stored document may be old, edited or hostile."""

    title: str
    question: str
    status: str
    error: str
    report: str
    sources: tuple[_Source, ...]
    hitl: tuple[Mapping[str, Any], ...]
    pending: Mapping[str, Any] | None
    elapsed_s: float | None
    started_at: str
    ended_at: str
    agent_kind: str
    config: Any
    conversation_id: str
    package_version: str

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> _View:
        timings = _mapping(doc.get("timings"))
        agent = _mapping(doc.get("agent"))
        elapsed = timings.get("elapsed_s")
        hitl = doc.get("hitl")
        pending = doc.get("pending")
        return cls(
            title=" ".join(_text(doc.get("title")).split()),
            question=_text(doc.get("question")).strip(),
            status=_text(doc.get("status")).strip() or "UNKNOWN",
            error=_text(doc.get("error")).strip(),
            report=_text(doc.get("report_markdown")),
            sources=tuple(_sources(doc.get("sources"))),
            hitl=tuple(h for h in hitl if isinstance(h, Mapping)) if isinstance(hitl, list) else (),
            pending=pending if isinstance(pending, Mapping) else None,
            elapsed_s=float(elapsed) if isinstance(elapsed, int | float) and not isinstance(elapsed, bool) else None,
            started_at=_text(timings.get("started_at")),
            ended_at=_text(timings.get("ended_at")),
            agent_kind=_text(agent.get("kind")),
            config=agent.get("config", {}),
            conversation_id=_text(doc.get("conversation_id")),
            package_version=_text(doc.get("package_version")),
        )

    def source(self, index: int) -> _Source | None:
        return next((s for s in self.sources if s.index == index), None)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    """A field as text, with line endings as markdown-it counts them (so token line maps line up)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


def _sources(value: object) -> list[_Source]:
    out: list[_Source] = []
    if not isinstance(value, list):
        return out
    for item in value:
        if not isinstance(item, Mapping):
            continue
        try:
            index = int(item.get("index", 0))
        except (TypeError, ValueError):
            continue
        url = _text(item.get("url")).strip()
        title = " ".join(_text(item.get("title")).split()) or url
        out.append(_Source(index, title, url, " ".join(_text(item.get("query")).split())))
    return out


# --- the report body: shared preparation ------------------------------------------------------------

_PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
# Block structure only (where code blocks are): a third of the cost of a full parse.
_BLOCKS = MarkdownIt("commonmark", {"html": False}).enable(["table"]).disable(["inline", "text_join"])
_ANCHOR = re.compile(r"<a\s+(?:id|name)\s*=\s*[\"']([A-Za-z0-9_.:-]{1,80})[\"']\s*>\s*</a>")
_H1 = re.compile(r"^ {0,3}#[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$")
_REF_HEADING = re.compile(r"^#{1,6}\s*Reference Articles\s*$")
_BLOCK_END = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|(?:[-*_][ \t]*){3,}$)")
_REF_LINE = re.compile(r"^\s*\[\d+\]\s*\[[^\]]*\]\([^)\s]*\)\s*$")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_CITATION = re.compile(r"\[citation:\s*(\d+(?:\s*[,，]\s*\d+)*)\s*\]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Body:
    text: str  # the report without its title line, its Reference Articles list and its empty anchors
    anchors: tuple[tuple[int, str], ...]  # (line, id) of each removed <a id="..."></a>


def _body(view: _View) -> _Body:
    """The report as the fallbacks show it; the title and the sources are rendered separately."""
    lines = view.report.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and view.title:
        match = _H1.match(lines[first])
        if match and " ".join(match.group("text").split()) == view.title:
            del lines[first]
    if view.sources and parse_reference_articles(view.report):
        lines = _without_references(lines)
    anchors: list[tuple[int, str]] = []
    code = _code_lines("\n".join(lines))
    for number, line in enumerate(lines):
        if number in code or "<a" not in line:
            continue
        anchors += [(number, m.group(1)) for m in _ANCHOR.finditer(line)]
        lines[number] = _ANCHOR.sub("", line)
    return _Body("\n".join(lines).rstrip(), tuple(anchors))  # leading lines stay: anchors count them


def _without_references(lines: list[str]) -> list[str]:
    """Drop the ``# Reference Articles`` heading and its ``[N] [title](url)`` lines (shown as Sources).

    Only when the block is nothing but such lines up to the next heading, rule or the end: anything the
    parser could not read stays in the report rather than being lost.
    """
    for start, line in enumerate(lines):
        if _REF_HEADING.match(line):
            end = start + 1
            while end < len(lines) and (not lines[end].strip() or _REF_LINE.match(lines[end])):
                end += 1
            if end == len(lines) or _BLOCK_END.match(lines[end]):
                return lines[:start] + lines[end:]
            return lines
    return lines


def _code_lines(text: str, *, top_level: bool = False) -> set[int]:
    """Line numbers inside fenced or indented code blocks, where Markdown shows text verbatim.

    ``top_level`` keeps only blocks outside lists and quotes: there every CommonMark or GFM renderer
    (markdown-it, marked in JupyterLab, GitHub) agrees that the lines are code, which is what makes
    leaving them unescaped safe.
    """
    lines: set[int] = set()
    for token in _BLOCKS.parse(text):
        if token.type in ("fence", "code_block") and token.map and (token.level == 0 or not top_level):
            lines.update(range(*token.map))
    return lines


def _map_prose(text: str, transform: Callable[[str], str], *, top_level: bool = False) -> str:
    """Apply ``transform`` to the runs of lines outside code blocks; code stays as it is."""
    lines = text.split("\n")
    code = _code_lines(text, top_level=top_level)
    out: list[str] = []
    start = 0
    while start < len(lines):
        in_code = start in code
        end = start
        while end < len(lines) and (end in code) == in_code:
            end += 1
        chunk = "\n".join(lines[start:end])
        out.append(chunk if in_code else transform(chunk))
        start = end
    return "\n".join(out)


def _close_fences(text: str) -> str:
    """Close a top-level code fence left open at the end, or it would swallow all that follows it."""
    lines = text.split("\n")
    fences = [t for t in _BLOCKS.parse(text) if t.type == "fence" and t.map and t.level == 0]
    if not fences:
        return text
    last = fences[-1]
    assert last.map is not None
    start, end = last.map
    if any(line.strip() for line in lines[end:]):
        return text  # something follows the block: it is closed
    closing = re.compile(rf" {{0,3}}{re.escape(last.markup[0])}{{{len(last.markup)},}}[ \t]*")
    if end - 1 > start and closing.fullmatch(lines[end - 1]):
        return text
    return f"{text}\n{last.markup}"


# --- links ----------------------------------------------------------------------------------------

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def _linkable(url: str) -> bool:
    """An http(s) URL or a relative one (``docs/a.md``): safe to put behind a link.

    Browsers drop leading spaces and tabs or newlines inside a URL (``java\\tscript:``), so a URL with
    those is refused rather than interpreted.
    """
    if not url or url != url.strip() or any(ord(c) < 0x20 or c == "\x7f" or c in "<>\"'`\\" for c in url):
        return False
    match = _SCHEME.match(url)
    return match is None or match.group(1).lower() in ("http", "https")


def _destination(url: str) -> str:
    """``url`` as a Markdown link destination: no spaces, parentheses or angle brackets left raw."""
    return quote(url, safe="/:?#[]@!$&*+,;=%~-._")


def _citations(text: str, view: _View, link: Callable[[int, _Source | None], str]) -> str:
    """``[citation:N]`` markers as links (``link`` decides the form); code spans keep their text."""

    def replace(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,，]\s*", match.group(1).strip())]
        return "".join(link(n, view.source(n)) for n in numbers)

    parts = _CODE_SPAN.split(text)  # [prose, ticks, code, prose, ticks, code, ..., prose]
    for k in range(0, len(parts), 3):
        parts[k] = _CITATION.sub(replace, parts[k])
    return "".join(part if k % 3 != 1 else part + parts[k + 1] + part for k, part in enumerate(parts) if k % 3 != 2)


def _md_citation(number: int, source: _Source | None) -> str:
    if source is None or not _linkable(source.url):
        return f"\\[{number}\\]"
    title = _escape_inline(source.title).replace('"', '\\"')
    return f'[\\[{number}\\]]({_destination(source.url)} "{title}")'


def _plain_citation(number: int, source: _Source | None) -> str:
    return f"[{number}]"


# --- Markdown -------------------------------------------------------------------------------------

_INLINE_SPECIAL = re.compile(r"[\\`*_\[\]#!|~]")
# Outside top-level code, only what an HTML parser reads as markup is escaped: "<" before a tag name,
# "/", "!" or "?", and "&" that may start a character reference ("jav&#x09;ascript:"). "a < b" and
# "a && b" stay as written, which matters inside code spans, where no escape works. An http(s) or
# mailto autolink becomes an ordinary link, which every renderer reads the same way.
_RAW = re.compile(
    r"(?P<autolink><(?:https?://|mailto:)[^\s<>\"'`\\\x00-\x1f\x7f]*>)|(?P<lt><(?=[A-Za-z/!?]))|(?P<amp>&(?=[#A-Za-z]))"
)
_LINK_TARGET = re.compile(
    r"(?P<pre>\]\(\s*|^[ \t>]*(?:[-*+][ \t]+|\d{1,9}[.)][ \t]+)?\[[^\]\n]*\]:[ \t]*\n?[ \t>]*)"
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)(?P<colon>\\?:)",
    re.MULTILINE,
)
_IMAGE = re.compile(r"(?<!\\)!\[")
_STAGES = {"clarification": "Clarification", "outline_review": "Outline review", "report_feedback": "Report feedback"}
_FEEDBACK = {
    "": "no comment",
    "accepted": "accepted",
    "revise_comment": "asked for changes",
    "revise_outline": "replaced the outline",
    "cancel": "cancelled",
}


def _escape_inline(text: str) -> str:
    """Plain text that Markdown shows literally: no emphasis, links, HTML or character references.

    ``<`` and ``&`` become entities rather than backslash escapes: every renderer decodes an entity to
    text, while not all honour ``\\<``.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _INLINE_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def _neutralise(text: str) -> str:
    """Agent Markdown kept as Markdown, but without raw HTML, entities or script links."""

    def escape(match: re.Match[str]) -> str:
        autolink = match.group("autolink")
        if autolink:
            url = autolink[1:-1]
            return f"[{_escape_inline(url)}]({_destination(url)})"
        return "&lt;" if match.group("lt") else "&amp;"

    def defang(match: re.Match[str]) -> str:
        if match.group("scheme").lower() in ("http", "https", "mailto"):
            return match.group(0)
        return f"{match.group('pre')}{match.group('scheme')}%3A"

    # An image would be fetched by every viewer of the notebook (a tracking pixel): keep it as a link.
    return _IMAGE.sub(r"\\![", _LINK_TARGET.sub(defang, _RAW.sub(escape, text)))


def _md_block(text: str, view: _View | None = None) -> str:
    """Agent-written Markdown (report, questions, answers) made safe to embed in our document."""

    def prose(chunk: str) -> str:
        chunk = _neutralise(chunk)
        return _citations(chunk, view, _md_citation) if view is not None else chunk

    return _close_fences(_map_prose(text, prose, top_level=True))


def _fenced(text: str, info: str = "") -> str:
    """``text`` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _status_parts(view: _View, *, with_time: bool) -> list[str]:
    """Status, elapsed time (optional), number of sources: the line under the title."""
    parts = [view.status]
    if with_time and view.elapsed_s is not None:
        parts.append(_duration(view.elapsed_s))
    count = len(view.sources)
    parts.append("no sources" if count == 0 else f"{count} source" + ("s" if count != 1 else ""))
    return parts


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _error_label(view: _View) -> str:
    return "Cancelled" if view.status == "CANCELLED" else "Error"


def _md_outline(outline: object) -> list[str]:
    if not isinstance(outline, Mapping):
        return []
    out: list[str] = []
    if outline.get("title"):
        out.append(f"**{_escape_inline(' '.join(_text(outline['title']).split()))}**\n")
    sections = outline.get("sections")
    for number, section in enumerate(sections if isinstance(sections, list) else [], start=1):
        if not isinstance(section, Mapping):
            continue
        line = f"{number}. {_escape_inline(' '.join(_text(section.get('title')).split()))}"
        description = " ".join(_text(section.get("description")).split())
        out.append(line + (f" — {_escape_inline(description)}" if description else ""))
    return out


def _md_question(entry: Mapping[str, Any]) -> list[str]:
    """The prompt, questions and outline of one HITL request."""
    out: list[str] = []
    prompt = _text(entry.get("prompt")).strip()
    if prompt:
        out += [f"*{_escape_inline(' '.join(prompt.split()))}*", ""]
    questions = _text(entry.get("questions")).strip()
    if questions:
        out += [_md_block(questions), ""]
    outline = _md_outline(entry.get("outline"))
    if outline:
        out += [*outline, ""]
    return out


def _md_answer(entry: Mapping[str, Any]) -> list[str]:
    feedback = _text(entry.get("feedback"))
    message = _text(entry.get("message")).strip()
    label = _FEEDBACK.get(feedback, _escape_inline(feedback))
    if not message:
        return [f"**Answer:** {label}", ""]
    if feedback == "revise_outline" or message.startswith("{"):
        return [f"**Answer ({label}):**", "", _fenced(message, "json"), ""]
    return [f"**Answer ({label}):**", "", _md_block(message), ""]


def _markdown(view: _View) -> str:
    out = [f"# {_escape_inline(view.title or 'Research report')}", ""]
    out += [f"**Status:** {' · '.join(_escape_inline(p) for p in _status_parts(view, with_time=True))}", ""]
    if view.question:
        out += ["**Question:**", "", *(f"> {_escape_inline(line)}" for line in view.question.split("\n")), ""]
    if view.error:
        out += [f"**{_error_label(view)}:** {_escape_inline(' '.join(view.error.split()))}", ""]
    if view.pending is not None:
        stage = _STAGES.get(_text(view.pending.get("stage")), "Question")
        out += [f"**Waiting for your answer ({stage}):**", "", *_md_question(view.pending)]
    body = _body(view).text
    out += ["---", "", _md_block(body, view) if body.strip() else "*No report was written.*", ""]
    if view.sources:
        out += ["## Sources", ""]
        for source in view.sources:
            title = _escape_inline(source.title)
            if _linkable(source.url):
                out.append(f"- \\[{source.index}\\] [{title}]({_destination(source.url)})")
            else:
                # Not a link, and not a code span either: escaped text is inert in every renderer.
                shown = source.url and source.url != source.title
                url = f" — {_escape_inline(' '.join(source.url.split()))}" if shown else ""
                out.append(f"- \\[{source.index}\\] {title}{url}")
        out.append("")
    if view.hitl:
        out += ["## Questions and answers", ""]
        for number, entry in enumerate(view.hitl, start=1):
            stage = _STAGES.get(_text(entry.get("stage")), "Question")
            out += [f"### {number}. {stage}", "", *_md_question(entry), *_md_answer(entry)]
    out += ["## Run details", "", *(f"- {_escape_inline(k)}: {_escape_inline(v)}" for k, v in _details(view)), ""]
    out += ["Agent configuration (secrets removed):", "", _fenced(_config_json(view), "json"), ""]
    return "\n".join(out)


def _details(view: _View) -> list[tuple[str, str]]:
    rows = [
        ("Agent", view.agent_kind),
        ("Conversation", view.conversation_id),
        ("Started", view.started_at),
        ("Ended", view.ended_at),
        ("Elapsed", _duration(view.elapsed_s) if view.elapsed_s is not None else ""),
        ("deepsearch_nb", view.package_version),
    ]
    return [(k, " ".join(v.split())) for k, v in rows if v]


def _config_json(view: _View) -> str:
    try:
        return json.dumps(view.config, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return _text(view.config)


# --- plain text -----------------------------------------------------------------------------------


def _plain(view: _View) -> str:
    out = [view.title or "Research report", f"Status: {' · '.join(_status_parts(view, with_time=False))}"]
    if view.question:
        out.append(f"Question: {view.question}")
    if view.error:
        out.append(f"{_error_label(view)}: {view.error}")
    if view.pending is not None:
        questions = _text(view.pending.get("questions")).strip() or _text(view.pending.get("prompt")).strip()
        out.append(f"Waiting for your answer: {questions}")
    body = _citations(_body(view).text, view, _plain_citation).strip()
    out += ["", body or "(no report was written)"]
    if view.sources:
        out += ["", "Sources:"]
        out += [f"[{s.index}] {s.title}" + (f" - {s.url}" if s.url and s.url != s.title else "") for s in view.sources]
    return "\n".join(out) + "\n"


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
        text = _map_prose(text, lambda chunk: _citations(chunk, view, _md_citation))
    tokens = _PARSER.parse(text)
    if anchors and view is not None:
        _link_anchors(tokens, text, anchors, _id_prefix(view))
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


def _html_sources(view: _View) -> str:
    items = []
    for s in view.sources:
        index = f'<span class="deepsearch-source-index">[{s.index}]</span>'
        if _linkable(s.url):
            title = f' title="{_esc(s.query)}"' if s.query else ""
            items.append(f'<li>{index}<a href="{_esc(_destination(s.url))}"{title}>{_esc(s.title)}</a></li>')
        else:
            url = f'<span class="deepsearch-source-url">{_esc(s.url)}</span>' if s.url and s.url != s.title else ""
            items.append(f"<li>{index}{_esc(s.title)}{url}</li>")
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

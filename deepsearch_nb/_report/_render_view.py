"""A tolerant view of a report document, and the preparation every fallback shares.

The view reads a document defensively (a saved notebook may hold anything); the body is the report text
prepared once (anchors, the Reference Articles block removed, code regions known), and the link helpers
decide which URLs may become links and how ``[citation:N]`` points at a source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from markdown_it import MarkdownIt

from .._protocol import Source, parse_reference_articles
from ._render_cite import _Cite, _Citer, _list

# --- a tolerant view of a document ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _View:
    """What the renderers need, read defensively: a stored document may be old, edited or hostile."""

    title: str
    question: str
    status: str
    error: str
    report: str
    sources: tuple[Source, ...]
    hitl: tuple[Mapping[str, Any], ...]
    pending: Mapping[str, Any] | None
    elapsed_s: float | None
    started_at: str
    ended_at: str
    agent_kind: str
    config: Any
    conversation_id: str
    package_version: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    markers: tuple[Mapping[str, Any], ...] = ()
    citation_summary: str = ""

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> _View:
        timings = _mapping(doc.get("timings"))
        agent = _mapping(doc.get("agent"))
        elapsed = timings.get("elapsed_s")
        hitl = doc.get("hitl")
        pending = doc.get("pending")
        check = _mapping(doc.get("citation_check"))
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
            evidence=_mapping(doc.get("evidence")),
            markers=tuple(m for m in _list(check.get("markers")) if isinstance(m, Mapping)),
            citation_summary=" ".join(_text(check.get("summary")).split()),
        )

    def citer(self) -> _Citer:
        """A fresh reader of the citations' evidence, for one rendering of the body (it counts markers)."""
        return _Citer(self.evidence, self.markers)

    def source(self, index: int) -> Source | None:
        return next((s for s in self.sources if s.index == index), None)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    """A field as text, with line endings as markdown-it counts them (so token line maps line up)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


def _sources(value: object) -> list[Source]:
    out: list[Source] = []
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
        passages = item.get("passages")
        out.append(
            Source.model_construct(
                index=index,
                title=title,
                url=url,
                query=" ".join(_text(item.get("query")).split()),
                passages=[_text(p) for p in passages if isinstance(p, str)] if isinstance(passages, list) else [],
                document=_text(item.get("document")),
            )
        )
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


def _opens(source: Source) -> tuple[list[str], str]:
    """What opens a source in place: the passages the report quotes (non-blank) and the document's text.
    Every fallback shows the same, so a reader without the extension can still check a citation."""
    extra = source.model_extra or {}
    passages = [str(p) for p in extra.get("passages") or [] if str(p).strip()]
    return passages, str(extra.get("document") or "")


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


_Link = Callable[[int, Source | None, _Cite | None], str]


def _citations(text: str, view: _View, link: _Link, citer: _Citer | None = None) -> str:
    """``[citation:N]`` markers as links (``link`` decides the form, given the marker's evidence when the
    report carries it); code spans keep their text. One ``citer`` serves every chunk of one body."""
    citer = citer or view.citer()

    def replace(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,，]\s*", match.group(1).strip())]
        return "".join(link(n, view.source(n), citer.next(n)) for n in numbers)

    parts = _CODE_SPAN.split(text)  # [prose, ticks, code, prose, ticks, code, ..., prose]
    for k in range(0, len(parts), 3):
        parts[k] = _CITATION.sub(replace, parts[k])
    return "".join(part if k % 3 != 1 else part + parts[k + 1] + part for k, part in enumerate(parts) if k % 3 != 2)


def _md_citation(number: int, source: Source | None, cite: _Cite | None = None) -> str:
    """``[N]`` linked to its source, its evidence (passage, title, where) in the link's title: shown on
    hover by every browser, with no script."""
    mark = _escape_inline(cite.mark) if cite is not None else ""
    if source is None or not _linkable(source.url):
        return f"\\[{number}{mark}\\]"
    tip = cite.tooltip() if cite is not None and cite.passage else source.title
    title = _escape_inline(tip).replace('"', '\\"')
    return f'[\\[{number}{mark}\\]]({_destination(source.url)} "{title}")'


def _plain_citation(number: int, source: Source | None, cite: _Cite | None = None) -> str:
    return f"[{number}{cite.mark if cite is not None else ''}]"


# --- labels and escaping the fallbacks share --------------------------------------------------------

_INLINE_SPECIAL = re.compile(r"[\\`*_\[\]#!|~]")


_STAGES = {
    "clarification": "Clarification",
    "outline_review": "Outline review",
    "report_feedback": "Report feedback",
    "step": "Step",
}


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


def _status_parts(view: _View, *, with_time: bool) -> list[str]:
    """Status, elapsed time (optional), number of sources: the line under the title."""
    parts = [view.status]
    if with_time and view.elapsed_s is not None:
        parts.append(_duration(view.elapsed_s))
    count = len(view.sources)
    parts.append("no sources" if count == 0 else f"{count} source" + ("s" if count != 1 else ""))
    if view.citation_summary:
        parts.append(view.citation_summary)
    return parts


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _error_label(view: _View) -> str:
    return "Cancelled" if view.status == "CANCELLED" else "Error"


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

"""The ``text/markdown`` and ``text/plain`` fallbacks of a report.

``text/markdown`` may reach a viewer that passes raw HTML through, so outside code blocks ``<`` and ``&``
are escaped, link destinations with other schemes than http/https/mailto are broken, and images become
links (a remote image would be fetched by every viewer). ``text/plain`` is the raw text, never rendered,
without times or ids so that nbval comparisons of a re-run notebook stay stable.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from markdown_it import MarkdownIt

from ._render_view import (
    _FEEDBACK,
    _STAGES,
    _body,
    _citations,
    _close_fences,
    _config_json,
    _destination,
    _details,
    _error_label,
    _escape_inline,
    _linkable,
    _map_prose,
    _md_citation,
    _opens,
    _plain_citation,
    _status_parts,
    _text,
    _View,
)

# --- Markdown -------------------------------------------------------------------------------------

# Outside top-level code, only what an HTML parser reads as markup is escaped: "<" before a tag name,
# "/", "!" or "?", and "&" that may start a character reference ("jav&#x09;ascript:"). "a < b" and
# "a && b" stay as written, which matters inside code spans, where no escape works. An http(s) or
# mailto autolink becomes an ordinary link, which every renderer reads the same way.
_RAW = re.compile(
    r"(?P<autolink><(?:https?://|mailto:)[^\s<>\"'`\\\x00-\x1f\x7f]*>)|(?P<lt><(?=[A-Za-z/!?]))|(?P<amp>&(?=[#A-Za-z]))"
)
# A link destination: after "](" (inline link) or after a reference definition's "[label]:", which may sit
# inside any nesting of quote and list containers ("- > [r]:", "1. - [r]:", "> 1. > [r]:") and may put
# its destination on the next line (behind the containers' continuation: spaces and ">").
_CONTAINERS = r"(?:[ \t>]|[-*+][ \t]|\d{1,9}[.)][ \t])*"
_LINK_TARGET = re.compile(
    rf"(?P<pre>\]\(\s*|^{_CONTAINERS}\[(?:[^\[\]\\]|\\.){{0,999}}\]:[ \t]*\n?[ \t>]*)"
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)(?P<colon>\\?:)",
    re.MULTILINE,
)
# The check behind the pattern: a parser that accepts every URL, as the least careful viewer does.
_PERMISSIVE = MarkdownIt("commonmark", {"html": False})
_PERMISSIVE.validateLink = lambda url: True  # type: ignore[method-assign]
_SAFE_SCHEMES = ("http", "https", "mailto")
_URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_IMAGE = re.compile(r"(?<!\\)!\[")


def _neutralise(text: str) -> str:
    """Agent Markdown kept as Markdown, but without raw HTML, entities or script links.

    The pattern defangs every destination it finds; a parse that accepts every URL then checks the result
    (markdown-it knows the containers a pattern may miss). Should a script link survive, every bracket of
    the text is escaped: no link is left at all, and the text still reads.
    """

    def escape(match: re.Match[str]) -> str:
        autolink = match.group("autolink")
        if autolink:
            url = autolink[1:-1]
            return f"[{_escape_inline(url)}]({_destination(url)})"
        return "&lt;" if match.group("lt") else "&amp;"

    def defang(match: re.Match[str]) -> str:
        if match.group("scheme").lower() in _SAFE_SCHEMES:
            return match.group(0)
        return f"{match.group('pre')}{match.group('scheme')}%3A"

    # An image would be fetched by every viewer of the notebook (a tracking pixel): keep it as a link.
    out = _IMAGE.sub(r"\\![", _LINK_TARGET.sub(defang, _RAW.sub(escape, text)))
    if ("[" in out or "]" in out) and _has_script_link(out):
        out = re.sub(r"(?<!\\)([\[\]])", r"\\\1", out)
    return out


def _has_script_link(markdown: str) -> bool:
    """Whether a viewer that accepts every URL would make a link (inline, reference or image) whose
    destination has another scheme than http, https or mailto."""
    env: dict[str, Any] = {}
    tokens = _PERMISSIVE.parse(markdown, env)
    urls = [str(ref.get("href", "")) for ref in env.get("references", {}).values() if isinstance(ref, Mapping)]
    for token in tokens:
        for child in token.children or ():
            for name in ("href", "src"):
                value = child.attrGet(name)
                if isinstance(value, str):
                    urls.append(value)
    for url in urls:
        squeezed = re.sub(r"[\x00-\x20]", "", html.unescape(url)).lower()
        match = _URL_SCHEME.match(squeezed)
        if match is not None and match.group(1) not in _SAFE_SCHEMES:
            return True
    return False


def _md_block(text: str, view: _View | None = None) -> str:
    """Agent-written Markdown (report, questions, answers) made safe to embed in our document."""

    citer = view.citer() if view is not None else None

    def prose(chunk: str) -> str:
        chunk = _neutralise(chunk)
        return _citations(chunk, view, _md_citation, citer) if view is not None else chunk

    return _close_fences(_map_prose(text, prose, top_level=True))


def _fenced(text: str, info: str = "") -> str:
    """``text`` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


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
            # The passages the report quotes, under their source: a reader can check a citation here.
            # (The document's text rides in the HTML fallback and the JSON, not in this plain fallback.)
            passages, _document = _opens(source)
            for passage in passages:
                out += ["", *(f"  > {_escape_inline(line)}" for line in passage.split("\n") if line.strip())]
        out.append("")
    if view.hitl:
        out += ["## Questions and answers", ""]
        for number, entry in enumerate(view.hitl, start=1):
            stage = _STAGES.get(_text(entry.get("stage")), "Question")
            out += [f"### {number}. {stage}", "", *_md_question(entry), *_md_answer(entry)]
    out += ["## Run details", "", *(f"- {_escape_inline(k)}: {_escape_inline(v)}" for k, v in _details(view)), ""]
    out += ["Agent configuration (secrets removed):", "", _fenced(_config_json(view), "json"), ""]
    return "\n".join(out)


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

"""``compare(a, b)``: what changed between two runs of a research, for a person deciding whether to trust one.

Either side may be a :class:`Report`, a report document, a :class:`Transcript`, or the path of a saved
report (``.json``) or a transcript (``.jsonl``). A transcript is folded back into the same facts a report
holds (its chunks through :class:`ResearchProgress`), so a report can be checked against the recording
it came from. Compared: the question, the answers (feedback and text, stop by stop), the outline, each
section's text, the whole text (as a unified diff), the sources (by URL) and the citations used. Times,
ids and who answered are not compared: they differ between two faithful runs.

The result displays itself: ``str()`` is a readable text diff, ``_repr_html_`` the same as escaped HTML
(everything in it comes from agents, so nothing is passed through unescaped; nh3 cleans it once more).
"""

from __future__ import annotations

import difflib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nh3

from .._errors import InvalidInputError
from .._protocol import Chunk, ResearchProgress, parse_chunk
from ..runtime import Transcript, read_transcript
from ._document import Report

__all__ = ["Comparison", "Difference", "comparable", "compare"]

_CITATION = re.compile(r"\[citation:\s*([\d\s,，]+)\]")
_SECTION = re.compile(r"^#{1,3}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Difference:
    """One aspect that differs: ``aspect`` (answers, outline, section, text, sources, ...) and the lines."""

    aspect: str
    summary: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare`: ``identical`` or the list of differences."""

    a_label: str
    b_label: str
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def identical(self) -> bool:
        return not self.differences

    @property
    def verdict(self) -> str:
        return "identical" if self.identical else "diverged"

    def aspects(self) -> list[str]:
        return [d.aspect for d in self.differences]

    def __bool__(self) -> bool:  # "if comparison:" reads as "if they match"
        return self.identical

    def __str__(self) -> str:
        head = f"{self.a_label} vs {self.b_label}: {self.verdict}"
        if self.identical:
            return head + " (question, answers, outline, sections, text, sources and citations all match)\n"
        out = [head, ""]
        for diff in self.differences:
            out.append(f"* {diff.aspect}: {diff.summary}")
            out += [f"    {line}" for line in diff.lines]
        return "\n".join(out) + "\n"

    def __repr__(self) -> str:
        return f"<Comparison {self.verdict} {', '.join(self.aspects()) or ''}>".replace(" >", ">")

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.identical else "#b26a00"
        parts = [
            f'<div class="deepsearch-compare"><p><strong style="color:{colour}">{self.verdict.upper()}</strong> '
            f"{html.escape(self.a_label)} vs {html.escape(self.b_label)}</p>"
        ]
        if self.identical:
            parts.append("<p>Question, answers, outline, sections, text, sources and citations all match.</p>")
        for diff in self.differences:
            parts.append(f"<p><strong>{html.escape(diff.aspect)}</strong>: {html.escape(diff.summary)}</p>")
            if diff.lines:
                rows = "".join(_html_line(line) for line in diff.lines)
                parts.append(f'<pre style="white-space:pre-wrap;font-size:.85em">{rows}</pre>')
        parts.append("</div>")
        return nh3.clean(
            "".join(parts),
            tags={"div", "p", "strong", "pre", "span", "br"},
            attributes={"div": {"class"}, "strong": {"style"}, "pre": {"style"}, "span": {"style"}},
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_()}


def _html_line(line: str) -> str:
    escaped = html.escape(line)
    if line.startswith("+"):
        return f'<span style="color:#2e7d32">{escaped}</span>\n'
    if line.startswith("-"):
        return f'<span style="color:#c62828">{escaped}</span>\n'
    return escaped + "\n"


def comparable(item: Report | Mapping[str, Any] | Transcript | str | Path) -> tuple[str, dict[str, Any]]:
    """``(label, facts)``: the facts of a report or a transcript that :func:`compare` looks at."""
    if isinstance(item, str | Path) and not str(item).lstrip().startswith("{"):
        path = Path(item)
        if path.suffix.lower() == ".jsonl":
            return path.name, _transcript_facts(read_transcript(path))
        return path.name, _report_facts(Report.load(path).doc)
    if isinstance(item, Transcript):
        return (item.path.name if item.path else "transcript"), _transcript_facts(item)
    if isinstance(item, Report):
        return "report", _report_facts(item.doc)
    if isinstance(item, str | Mapping):
        return "report", _report_facts(Report.from_document(item).doc)
    raise InvalidInputError(f"compare() takes reports, transcripts or their paths, not {type(item).__name__}.")


def _report_facts(doc: Mapping[str, Any]) -> dict[str, Any]:
    answers = [(str(h.get("feedback", "")), str(h.get("message", ""))) for h in doc.get("hitl", [])]
    outline = next((h.get("outline") for h in reversed(doc.get("hitl", [])) if h.get("outline")), None)
    return {
        "question": str(doc.get("question", "")),
        "answers": answers,
        "outline": _outline_titles(outline),
        "text": str(doc.get("report_markdown", "")),
        "sources": [(str(s.get("url", "")), str(s.get("title", ""))) for s in doc.get("sources", [])],
        "citations": doc.get("citations") or {},
    }


def _transcript_facts(transcript: Transcript) -> dict[str, Any]:
    progress = ResearchProgress()
    for raw in transcript.chunks():
        parsed = parse_chunk(raw if isinstance(raw, str | Mapping) else json.dumps(raw))
        if isinstance(parsed, Chunk):
            progress.feed(parsed)
    result = progress.final_result
    sources = result.sources() if result is not None else []
    outline = progress.outline.model_dump(mode="json") if progress.outline is not None else None
    return {
        "question": transcript.question,
        "answers": [(str(a.get("feedback", "")), str(a.get("message", ""))) for a in transcript.answers],
        "outline": _outline_titles(outline),
        "text": progress.report_markdown(),
        "sources": [(s.url, s.title) for s in (sources or progress.sources)],
        "citations": dict(result.citation_messages) if result is not None else {},
    }


def _outline_titles(outline: object) -> list[str]:
    if not isinstance(outline, Mapping):
        return []
    sections = outline.get("sections")
    titles = [str(outline.get("title", ""))]
    return titles + [str(s.get("title", "")) for s in sections if isinstance(s, Mapping)] if sections else titles


def _sections(text: str) -> dict[str, str]:
    """The text under each heading (``#`` to ``###``), so a change is named by its section."""
    marks = list(_SECTION.finditer(text))
    out: dict[str, str] = {}
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(text)
        out[mark.group(1).strip()] = text[mark.end() : end].strip()
    return out


def _cited(text: str) -> set[int]:
    return {int(n) for m in _CITATION.finditer(text) for n in re.split(r"[\s,，]+", m.group(1).strip()) if n}


def compare(
    a: Report | Mapping[str, Any] | Transcript | str | Path,
    b: Report | Mapping[str, Any] | Transcript | str | Path,
    *,
    labels: tuple[str, str] | None = None,
) -> Comparison:
    """What changed from ``a`` to ``b``: answers, outline, sections, text, sources, citations.

    ``labels`` names the two sides in the output (default: their file names, or "report"/"transcript").
    """
    a_label, fa = comparable(a)
    b_label, fb = comparable(b)
    if labels is not None:
        a_label, b_label = labels
    if a_label == b_label:
        a_label, b_label = f"{a_label} (a)", f"{b_label} (b)"
    diffs: list[Difference] = []
    if fa["question"] != fb["question"]:
        diffs.append(Difference("question", "the question differs", (f"- {fa['question']}", f"+ {fb['question']}")))
    for stop in range(max(len(fa["answers"]), len(fb["answers"]))):
        left = fa["answers"][stop] if stop < len(fa["answers"]) else None
        right = fb["answers"][stop] if stop < len(fb["answers"]) else None
        if left != right:
            shown = [f"- {_answer(left)}", f"+ {_answer(right)}"]
            diffs.append(Difference("answers", f"the answer at stop {stop + 1} differs", tuple(shown)))
    if fa["outline"] != fb["outline"]:
        lines = tuple(difflib.unified_diff(fa["outline"], fb["outline"], lineterm="", n=0))[2:]
        diffs.append(Difference("outline", "the outline differs", lines))
    sa, sb = _sections(fa["text"]), _sections(fb["text"])
    for title in [*sa, *(t for t in sb if t not in sa)]:
        if sa.get(title) != sb.get(title):
            what = "added" if title not in sa else "removed" if title not in sb else "changed"
            diffs.append(Difference("section", f"{title!r} {what}"))
    if fa["text"] != fb["text"]:
        text_diff = difflib.unified_diff(fa["text"].splitlines(), fb["text"].splitlines(), lineterm="", n=1)
        lines = tuple(list(text_diff)[2:80])
        diffs.append(Difference("text", "the report text differs", lines))
    urls_a, urls_b = dict(fa["sources"]), dict(fb["sources"])
    if fa["sources"] != fb["sources"]:
        lines = tuple(
            [f"- {urls_a[u]} ({u})" for u in urls_a if u not in urls_b]
            + [f"+ {urls_b[u]} ({u})" for u in urls_b if u not in urls_a]
        )
        diffs.append(Difference("sources", "the sources differ" + ("" if lines else " in order or title"), lines))
    cited_a, cited_b = _cited(fa["text"]), _cited(fb["text"])
    if cited_a != cited_b or fa["citations"] != fb["citations"]:
        lines = (f"- cited {sorted(cited_a - cited_b)}", f"+ cited {sorted(cited_b - cited_a)}")
        diffs.append(Difference("citations", "the citations differ", lines))
    return Comparison(a_label, b_label, tuple(diffs))


def _answer(answer: tuple[str, str] | None) -> str:
    if answer is None:
        return "(no answer: the run did not stop here)"
    feedback, message = answer
    return f"{feedback or 'answer'}: {message}" if message else feedback or "(empty)"

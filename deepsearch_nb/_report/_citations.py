"""The citation check a finished report carries: is each cited passage in its source, and does it
support the sentence that cites it?

Every ``[citation:N]`` of the report is one citation. Its sentence is scored against the passages of
source N with an offline lexical measure, **content-word recall**: the share of the sentence's content
words (lower-cased, stopwords dropped, plurals folded: the local agent's retrieval terms) that occur in
the passage. A sentence quoted verbatim scores 1.0; a faithful paraphrase keeps most of its words; a
claim the passage does not make shares few. Below :data:`WEAK_BELOW` the citation is **weak**.

Statuses: ``verified`` (the passage is in its source now, and supports the sentence), ``weak`` (in its
source, but the sentence says more than it), ``missing_source`` (no such source, the file is gone or
changed, or the passage is not in it), ``unverifiable`` (a web source whose content the agent did not
hand over: it cannot be looked up, so it is never called verified). Sentences without any citation are
counted too. The result is stored in the report (``citation_check``, ``evidence``), so a reader of a
saved notebook sees it without a kernel; :func:`check_citations` runs it again against the files as
they are now.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._agents._local._text import normalize_space, split_sentences, tokenize
from ._evidence import SourceEvidence, add_candidate, corpus_base, gather_evidence
from ._render_view import _CITATION, _CODE_SPAN, _body, _code_lines, _View

__all__ = ["MEASURE", "WEAK_BELOW", "check_citations", "citation_summary", "support"]

WEAK_BELOW = 0.5
"""A citing sentence with less than half of its content words in the passage is weakly supported."""
MEASURE = "content-word recall"
STATUSES = ("verified", "weak", "missing_source", "unverifiable")

_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_LINK_LINE = re.compile(r"^\s*(?:\[[^\]]*\]\([^)]*\)\s*)+$")
_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_TABLE = re.compile(r"^\s*\|")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|<[^>]*>|^\s*(?:>\s*)+|^\s*(?:[-*+]|\d+[.)])\s+")
_LEADING_MARKERS = re.compile(r"^((?:\s*\[citation:[^\]]*\])+)\s*", re.IGNORECASE)


def support(sentence: str, passage: str) -> float:
    """Content-word recall of ``sentence`` in ``passage`` (1.0 when the sentence has no content words)."""
    claim = set(tokenize(_CITATION.sub(" ", sentence)))
    if not claim:
        return 1.0
    return len(claim & set(tokenize(passage))) / len(claim)


@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str  # without its citation markers
    numbers: tuple[int, ...]  # the sources it cites, in order (a number once per marker)


def report_sentences(doc: Mapping[str, Any]) -> list[_Sentence]:
    """The prose sentences of the report body, in order, each with the citation numbers it carries.

    The body is what the renderers show (title and Reference Articles removed); code, headings, tables,
    rules and lines of links only (a table of contents) are not prose.
    """
    text = _body(_View.of(doc)).text
    code = _code_lines(text)
    paragraphs: list[list[str]] = [[]]
    for number, line in enumerate(text.split("\n")):
        if number in code or not line.strip() or any(p.match(line) for p in (_HEADING_LINE, _LINK_LINE, _RULE, _TABLE)):
            paragraphs.append([])
            continue
        line = _CODE_SPAN.sub(" ", line)
        paragraphs[-1].append(_MARKUP.sub(" ", _MD_LINK.sub(r"\1", line)))
    out: list[_Sentence] = []
    for lines in paragraphs:
        for raw in split_sentences(" ".join(lines)):
            lead = _LEADING_MARKERS.match(raw)
            if lead and out:  # "... trade. [citation:1] Next": the marker belongs to the sentence before
                previous = out[-1]
                out[-1] = _Sentence(previous.text, previous.numbers + _numbers(lead.group(1)))
                raw = raw[lead.end() :]
            clean = normalize_space(_CITATION.sub(" ", raw))
            if clean or _numbers(raw):
                out.append(_Sentence(clean, _numbers(raw)))
    return out


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for m in _CITATION.finditer(text) for n in re.split(r"\s*[,，]\s*", m.group(1).strip()))


def check_citations(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``{"evidence": ..., "citation_check": ...}`` for a report document, against its sources as they
    are now (an empty dict for a report without citations)."""
    sentences = report_sentences(doc)
    numbers = {n for s in sentences for n in s.numbers}
    if not numbers:
        uncited = sum(1 for s in sentences if s.text)
        if not uncited:
            return {}
        return {"citation_check": _summarised({"citations": 0, "uncited_sentences": uncited, "markers": []})}
    evidence = gather_evidence(doc, numbers)
    base = corpus_base(doc)
    markers = [_judge(s.text, evidence[n], base) for s in sentences for n in s.numbers]
    check = {
        "citations": len(markers),
        "uncited_sentences": sum(1 for s in sentences if s.text and not s.numbers),
        "markers": markers,
    }
    return {
        "evidence": {str(n): e.to_json() for n, e in evidence.items()},
        "citation_check": _summarised(check),
    }


def _judge(sentence: str, evidence: SourceEvidence, base: Any) -> dict[str, Any]:
    """One citation: its status, its support score and the passage it stands for."""
    marker: dict[str, Any] = {"n": evidence.n}
    if evidence.kind == "missing":
        marker["status"] = "missing_source"
        return marker
    if evidence.candidates:
        best = max(evidence.candidates, key=lambda c: support(sentence, c), default="")
        if best:
            add_candidate(evidence, best, base)
    scored = [(support(sentence, p.text), -i, i) for i, p in enumerate(evidence.passages)]
    if not scored:
        marker["status"] = "unverifiable" if evidence.kind == "web" and not evidence.readable else "missing_source"
        return marker
    score, _, index = max(scored)
    passage = evidence.passages[index]
    marker.update(support=round(score, 3), passage=index)
    if evidence.kind == "web" and not evidence.readable:
        marker["status"] = "unverifiable"
    elif not evidence.readable or not passage.found:
        marker["status"] = "missing_source"
    else:
        marker["status"] = "verified" if score >= WEAK_BELOW else "weak"
    return marker


def _summarised(check: dict[str, Any]) -> dict[str, Any]:
    counts = dict.fromkeys(STATUSES, 0)
    for marker in check["markers"]:
        counts[marker["status"]] += 1
    check = {"measure": MEASURE, "weak_below": WEAK_BELOW, **check, "counts": counts}
    check["summary"] = citation_summary(check)
    return check


def citation_summary(check: Mapping[str, Any]) -> str:
    """The header line: "24 citations: 23 verified, 1 weak, 0 missing source; 3 sentences uncited"."""
    counts = check.get("counts") if isinstance(check.get("counts"), Mapping) else {}
    assert isinstance(counts, Mapping)
    total = int(check.get("citations") or 0)
    parts = [f"{int(counts.get('verified', 0))} verified", f"{int(counts.get('weak', 0))} weak"]
    parts.append(f"{int(counts.get('missing_source', 0))} missing source")
    if counts.get("unverifiable"):
        parts.append(f"{int(counts['unverifiable'])} unverifiable")
    head = f"{total} citation{'s' * (total != 1)}: {', '.join(parts)}" if total else "no citations"
    uncited = int(check.get("uncited_sentences") or 0)
    if uncited:
        head += f"; {uncited} sentence{'s' * (uncited != 1)} without a citation"
    return head

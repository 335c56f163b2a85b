"""The outline: its data, its SDK JSON form, and how it is drafted from the best-matching documents.

Drafting is retrieval plus grouping. The question (and the clarification answer, weighted double) is
run against the index; the best documents are grouped around "seed" documents, taken in rank order,
that are unlike the seeds before them (cosine of tf-idf vectors below :data:`_SEED_SIMILARITY`); every
other document joins the seed it is most like. Each group becomes a section titled after its seed, so
sections come in order of relevance and cover different sub-topics.

Aspects named in the clarification answer ("costs, fire safety and recycling") come first: each one's
best-matching documents form a section of their own, named after the aspect when it is short. The scope
the answer sets (regions, period, audience) is no aspect: documents about other regions only are left
out and those about the regions asked for rank higher. A comparison question with no aspects gets
comparing sections instead (:mod:`._shape`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..._protocol import Outline
from ._focus import Focus
from ._index import CorpusIndex, Hit, cosine
from ._shape import DIMENSIONS, Comparison, comparison_of, report_title
from ._text import content_terms, normalize_space, tokenize

__all__ = [
    "MAX_USER_SECTIONS",
    "OutlineDraft",
    "SectionDraft",
    "draft_outline",
    "group_hits",
    "outline_from_template",
    "outline_from_user",
    "report_title",
    "section_for_topic",
]

MAX_USER_SECTIONS = 15  # the SDK's upper bound of outliner_max_section_num; it also bounds user edits
_SEED_SIMILARITY = 0.22
_DOCS_PER_SECTION = 3


@dataclass(frozen=True, slots=True)
class SectionDraft:
    """One section: its title and description drive the section's own retrieval when it is written."""

    title: str
    description: str = ""
    focus: tuple[str, ...] = ()  # focus_dimensions: the section's key terms

    def query_weights(self) -> dict[str, float]:
        weights = dict.fromkeys(tokenize(self.description), 1.0)
        weights.update(dict.fromkeys(self.focus, 1.5))
        weights.update(dict.fromkeys(tokenize(self.title), 2.0))
        return weights


@dataclass(frozen=True, slots=True)
class OutlineDraft:
    title: str
    sections: tuple[SectionDraft, ...]
    thought: tuple[str, ...] = field(default_factory=tuple)

    def with_note(self, note: str) -> OutlineDraft:
        return replace(self, thought=(*self.thought, note))

    def to_json(self) -> str:
        """The SDK's ``Outline`` JSON (compact, like pydantic's ``model_dump_json``); ids are positions."""
        sections = [
            {
                "id": str(i),
                "title": s.title,
                "description": s.description,
                "format_requirements": [],
                "is_core_section": i == 1,
                "parent_ids": [],
                "relationships": [],
                "plans": [],
                "section_focus": "section_specific_analysis",
                "focus_dimensions": list(s.focus),
                "material_bindings": [],
                "doc_selection_debug": None,
            }
            for i, s in enumerate(self.sections, start=1)
        ]
        data: dict[str, Any] = {"id": "", "language": "en-US", "thought": " ".join(self.thought), "title": self.title}
        data["sections"] = sections
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def group_hits(
    index: CorpusIndex, hits: Sequence[Hit], k: int, pinned: Sequence[Sequence[int]] = ()
) -> list[list[Hit]]:
    """Group ranked hits around at most ``k`` mutually unlike seeds (see the module docstring).

    ``pinned`` lists, per aspect the user named, positions in ``hits`` that belong together; the first of
    each is a seed. Their groups come first, in the given order, then the others in rank order.
    """
    if k <= 0 or not hits:
        return []
    vectors = [index.vector(h.doc) for h in hits]
    pinned = [list(p) for p in pinned if p][:k]
    seeds: list[int] = [p[0] for p in pinned]
    owner = {i: p[0] for p in pinned for i in p}
    for i in range(len(hits)):
        if len(seeds) >= k:
            break
        if i not in seeds and all(cosine(vectors[i], vectors[s]) < _SEED_SIMILARITY for s in seeds):
            seeds.append(i)
    # Not enough distinct sub-topics: take the least similar of the remaining hits as extra seeds.
    rest = [i for i in range(len(hits)) if i not in seeds]
    rest.sort(key=lambda i: (max((cosine(vectors[i], vectors[s]) for s in seeds), default=0.0), i))
    seeds.extend(rest[: max(0, k - len(seeds))])
    seeds = seeds[: len(pinned)] + sorted(seeds[len(pinned) :])
    groups: dict[int, list[Hit]] = {s: [hits[s]] for s in seeds}
    for i in range(len(hits)):
        if i in groups:
            continue
        best = owner.get(i)
        if best is None:
            best = max(seeds, key=lambda s: (cosine(vectors[i], vectors[s]), -s))
        groups[best].append(hits[i])
    return [groups[s] for s in seeds]


def _section_from_group(index: CorpusIndex, group: Sequence[Hit], topic: str = "") -> SectionDraft:
    titles = [h.doc.title for h in group]
    centroid: dict[str, float] = {}
    for hit in group:
        for term, weight in index.vector(hit.doc).items():
            centroid[term] = centroid.get(term, 0.0) + weight
    ranked = [t for t, _ in sorted(centroid.items(), key=lambda tw: (-tw[1], tw[0]))]
    focus = tuple(dict.fromkeys([*content_terms(topic), *ranked]))[:3]
    lead = f"What the corpus says about {topic}. " if topic else ""
    noun = "document" if len(titles) == 1 else "documents"
    description = f"{lead}Draws on {len(titles)} {noun}: " + "; ".join(titles) + "."
    return SectionDraft(
        title=topic[:1].upper() + topic[1:] if topic else titles[0], description=description, focus=focus
    )


def draft_outline(index: CorpusIndex, focus: Focus, max_sections: int) -> OutlineDraft:
    """Draft an outline of up to ``min(max_sections, 6)`` sections for the question and its answer."""
    k = min(max_sections, 6)
    excluded = set(focus.excluded)
    scope = focus.scope

    def allowed(hit: Hit) -> bool:
        return not excluded.intersection(tokenize(hit.doc.title)) and scope.region_factor(hit.doc.text) > 0

    def ranked(found: Sequence[Hit]) -> list[Hit]:
        """Allowed hits, the regions asked for first (a stable sort keeps BM25's order among equals)."""
        kept = [Hit(h.doc, round(h.score * scope.region_factor(h.doc.text), 6)) for h in found if allowed(h)]
        return sorted(kept, key=lambda h: -h.score)

    hits = ranked(index.search(focus.weights(), k * _DOCS_PER_SECTION * 2))[: k * _DOCS_PER_SECTION]
    notes = [f"Question: {normalize_space(focus.question)}"]
    if focus.answer.strip():
        notes.append(f"Clarification: {normalize_space(focus.answer)} (its words weigh double in retrieval).")
    if not scope.empty:
        notes.append(f"Scope: {scope.describe()} (filters and weighs the evidence; it names no section).")
    if excluded:
        notes.append("Left out documents whose titles name: " + ", ".join(focus.excluded) + ".")
    title = report_title(focus.question, scope.describe() if scope.regions or scope.period else "")
    comparison = comparison_of(focus.question)
    if comparison is not None and not focus.aspects():
        comparing = _comparing_sections(index, comparison, k, allowed)
        if comparing:
            notes.append(f"A comparison: {len(comparing)} sections compare the two sides dimension by dimension.")
            return OutlineDraft(title=title, sections=tuple(comparing), thought=tuple(notes))
    # Each aspect the answer names gets a section of the documents that match it best.
    pinned: list[list[int]] = []
    taken: set[int] = set()
    aspect_titles: dict[int, str] = {}  # seed position -> the aspect that names its section
    for aspect in focus.aspects()[:k]:
        found = ranked(index.search(dict.fromkeys(content_terms(aspect), 1.0), 6))
        found = [h for h in found if h.score >= found[0].score * 0.5][:_DOCS_PER_SECTION] if found else []
        positions = []
        for hit in found:
            position = next((i for i, h in enumerate(hits) if h.doc.doc_id == hit.doc.doc_id), None)
            if position is None:
                hits.append(hit)
                position = len(hits) - 1
            if position not in taken:
                positions.append(position)
                taken.add(position)
        if positions:
            pinned.append(positions)
            if len(aspect.split()) <= 5:  # a short aspect names its section; a long one reads badly as a title
                aspect_titles[positions[0]] = aspect
            notes.append(f"Aspect {aspect!r} leads with {hits[positions[0]].doc.title!r}.")
    if not hits:
        hits = [Hit(doc, 0.0) for doc in index.corpus.documents[: k * _DOCS_PER_SECTION]]
        notes.append("No document matched the question's words, so the outline groups the corpus in order.")
    groups = group_hits(index, hits, k, pinned)
    titled = {hits[i].doc.doc_id: a for i, a in aspect_titles.items()}
    sections = tuple(_section_from_group(index, g, titled.get(g[0].doc.doc_id, "")) for g in groups)
    notes.append(f"Grouped the {len(hits)} best-matching documents into {len(sections)} sections.")
    return OutlineDraft(title=title, sections=sections, thought=tuple(notes))


def _comparing_sections(
    index: CorpusIndex, comparison: Comparison, k: int, allowed: Callable[[Hit], bool]
) -> list[SectionDraft]:
    """One section per dimension the corpus speaks to along with the compared sides, best first."""
    sides = dict.fromkeys(comparison.terms, 0.5)
    scored: list[tuple[float, int, SectionDraft]] = []
    for position, (dimension, words) in enumerate(DIMENSIONS):
        terms = tokenize(words)
        about = index.scores(dict.fromkeys(terms, 1.0))
        weights = {**sides, **dict.fromkeys(terms, 1.0)}
        hits = [h for h in index.search(weights, 8) if allowed(h) and about[h.doc.doc_id] > 0][:_DOCS_PER_SECTION]
        if len(hits) < 2:
            continue
        titles = "; ".join(h.doc.title for h in hits)
        description = f"{comparison.description(dimension)} Draws on {len(hits)} documents: {titles}."
        section = SectionDraft(comparison.section_title(dimension), description, tuple(dict.fromkeys(terms))[:3])
        scored.append((sum(h.score for h in hits), -position, section))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    return [section for _, _, section in scored[:k]]


def section_for_topic(index: CorpusIndex, topic: str) -> SectionDraft:
    """A new section about ``topic`` (a user's "add a section on ..."), described by what matches it."""
    topic = normalize_space(topic).strip(" .!?\"'“”")
    hits = index.search(dict.fromkeys(content_terms(topic), 1.0), _DOCS_PER_SECTION)
    if not hits:
        return SectionDraft(topic[:1].upper() + topic[1:])  # no description: nothing to describe it by
    return _section_from_group(index, hits, topic)


def outline_from_user(outline: Outline) -> OutlineDraft:
    """A user's ``revise_outline`` outline, taken as given (title, descriptions, focus_dimensions)."""
    sections = []
    for section in outline.sections:
        extra: Mapping[str, Any] = section.model_extra or {}
        focus = extra.get("focus_dimensions")
        terms = tuple(str(f) for f in focus) if isinstance(focus, list) else ()
        sections.append(SectionDraft(normalize_space(section.title), normalize_space(section.description), terms))
    thought = (outline.thought,) if outline.thought else ()
    return OutlineDraft(title=normalize_space(outline.title), sections=tuple(sections), thought=thought)


_TEMPLATE_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")


def outline_from_template(template: str, question: str) -> OutlineDraft | None:
    """Sections from a report template's Markdown headings (base64 accepted, like the SDK), or None."""
    text = template
    try:
        decoded = base64.b64decode(template, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        decoded = ""
    if "#" in decoded:
        text = decoded
    headings: list[tuple[int, str, list[str]]] = []
    for line in text.splitlines():
        match = _TEMPLATE_HEADING.match(line)
        if match:
            headings.append((len(match.group(1)), match.group(2), []))
        elif headings and line.strip():
            headings[-1][2].append(line.strip())
    if not headings:
        return None
    title = report_title(question)
    if len(headings) > 1 and headings[0][0] == 1 and all(h[0] > 1 for h in headings[1:]):
        title = headings.pop(0)[1]
    sections = tuple(SectionDraft(h[1], normalize_space(" ".join(h[2]))) for h in headings[:MAX_USER_SECTIONS])
    return OutlineDraft(title, sections, ("Sections follow the report template.",))

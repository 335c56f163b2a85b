"""The local agent's step points: what it shows at each stage boundary and how it applies an edit.

Outside step mode every :func:`step_point` returns ``continue`` at once and nothing here changes the
report. In step mode the round awaits the person at each point (the agent computes nothing meanwhile) and
applies what comes back: a section's plan edited before it is researched, sources dropped at the gate
before the section is written (a dropped source is never numbered, so it is in neither the citations nor
the reference list), a section written again with instructions (their words lead its sentence choice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..._protocol._step import StepAction, StepKind, StepPoint, StepSource
from .._stepping import step_point, stepping
from ._index import CorpusIndex, Hit
from ._outline import SectionDraft
from ._text import content_terms, tokenize

__all__ = ["edit_plan", "gate_sources", "outline_point", "report_point", "rewritten", "section_point"]


async def edit_plan(k: int, total: int, section: SectionDraft) -> SectionDraft:
    """Pause at section ``k``'s plan; returns the section as the person left it."""
    while stepping():
        point = StepPoint(
            kind=StepKind.PLAN,
            section=k,
            sections=total,
            title=section.title,
            description=section.description,
            focus=list(section.focus),
            edits=["edit_plan"],
        )
        action = await step_point(point)
        if action.action != "edit_plan":
            return section
        focus = tuple(t for f in action.focus for t in tokenize(f)) if action.focus is not None else section.focus
        section = SectionDraft(
            title=(action.title or section.title).strip(),
            description=section.description if action.description is None else action.description.strip(),
            focus=tuple(dict.fromkeys(focus)),
        )  # and pause again: the person sees the plan they made before it is researched
    return section


def _passage(index: CorpusIndex, section: SectionDraft, hit: Hit) -> str:
    weights = section.query_weights()
    sentences = hit.doc.sentences
    if not sentences:
        return ""
    best = max(sentences, key=lambda s: (index.sentence_score(tokenize(s), weights), -sentences.index(s)))
    return best


async def gate_sources(index: CorpusIndex, k: int, total: int, section: SectionDraft, hits: Sequence[Hit]) -> list[Hit]:
    """The source gate: pause with each gathered source; returns the ones the person kept."""
    if not stepping():
        return list(hits)
    shown = [
        StepSource(url=h.doc.url, title=h.doc.title, where=h.doc.path, passage=_passage(index, section, h))
        for h in hits
    ]
    point = StepPoint(
        kind=StepKind.SOURCES, section=k, sections=total, title=section.title, sources=shown, edits=["drop_sources"]
    )
    action = await step_point(point)
    if action.action != "drop_sources":
        return list(hits)
    dropped = action.dropped(shown)
    return [h for h in hits if h.doc.url not in dropped]


async def section_point(k: int, total: int, section: SectionDraft, markdown: str, *, rewritable: bool) -> StepAction:
    """Pause once section ``k`` is written (before it is streamed when it can still be rewritten)."""
    if not stepping():
        return StepAction()
    point = StepPoint(
        kind=StepKind.SECTION,
        section=k,
        sections=total,
        title=section.title,
        text=markdown,
        edits=["rewrite"] if rewritable else [],
    )
    return await step_point(point)


def rewritten(section: SectionDraft, instructions: str) -> SectionDraft:
    """The section with the instructions' words leading its sentence choice (the extractive writer's brief)."""
    terms = tuple(dict.fromkeys([*content_terms(instructions), *section.focus]))
    description = f"{section.description} {instructions}".strip()
    return replace(section, description=description, focus=terms)


async def outline_point(title: str, sections: Sequence[SectionDraft]) -> None:
    """Pause after the outline when the agent does not ask for its review itself."""
    if not stepping():
        return
    text = "\n".join(f"{i}. {s.title}" for i, s in enumerate(sections, start=1))
    await step_point(StepPoint(kind=StepKind.OUTLINE, sections=len(sections), title=title, text=text))


async def report_point(title: str, sections: Sequence[SectionDraft]) -> None:
    """Pause when every section is written, before the final report."""
    if not stepping():
        return
    text = "\n".join(f"{i}. {s.title}" for i, s in enumerate(sections, start=1))
    await step_point(StepPoint(kind=StepKind.REPORT, sections=len(sections), title=title, text=text))

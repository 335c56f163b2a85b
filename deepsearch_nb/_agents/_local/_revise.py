"""Applying a ``revise_comment`` to an outline with a few plain-English rules.

Understood (one instruction per clause; clauses are split at ``;``, new lines, sentence ends and "then"):

* add: "add a section on costs", "include a chapter about recycling" -> a new last section, described
  by the documents that match the topic;
* drop: "drop section 2", "remove the section on safety", "delete the policy section";
* rename: "rename section 1 to Market overview", "rename the section on costs to Economics";
* move: "move section 3 to the top" / "to the end" / "to position 2".

Section numbers refer to the outline the user was shown, even when an earlier clause removed a section.
Anything else is recorded in the outline's ``thought`` so the user sees that it was read but not applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ._index import CorpusIndex
from ._outline import MAX_USER_SECTIONS, OutlineDraft, SectionDraft, section_for_topic
from ._text import content_terms, normalize_space, tokenize

__all__ = ["apply_comment"]

_CLAUSES = re.compile(r"[;\n]+|(?<=[.!?])\s+|,?\s+\bthen\b\s+", re.IGNORECASE)
_SECTION = r"(?:section|chapter|part)"
# A reference to a section: by number, by topic ("the section on costs") or by name ("the costs section").
_REF = (
    rf"(?:{_SECTION}\s+(?:#\s*|no\.?\s*|number\s+)?(?P<num>\d+)"
    rf"|(?:the\s+)?{_SECTION}\s+(?:on|about|called|titled|named|covering)\s+(?P<topic>.+?)"
    rf"|(?:the\s+)?(?P<topic2>.+?)\s+{_SECTION})"
)
_ADD = re.compile(
    rf"^(?:please\s+)?(?:add|include|insert|append)\s+(?:(?:a|an|one|another|new|extra|separate|short)\s+)*"
    rf"(?:{_SECTION}\s+)?(?:(?:on|about|for|covering|regarding|discussing|that covers)\s+)?(?P<topic>.+)$",
    re.IGNORECASE,
)
_DROP = re.compile(rf"^(?:please\s+)?(?:drop|remove|delete|cut|omit)\s+(?:the\s+)?{_REF}$", re.IGNORECASE)
_RENAME = re.compile(
    rf"^(?:please\s+)?(?:rename|retitle|call)\s+(?:the\s+)?{_REF}\s+(?:to|as|into)\s+(?P<new>.+)$", re.IGNORECASE
)
_MOVE = re.compile(
    rf"^(?:please\s+)?move\s+(?:the\s+)?{_REF}\s+to\s+(?:the\s+)?(?:(?P<where>top|start|beginning|front|first|end|bottom|last)"
    rf"|position\s+(?P<pos>\d+))(?:\s+(?:position|place))?$",
    re.IGNORECASE,
)


@dataclass
class _Slot:
    """A section with the number it had in the outline the user saw (0 for added sections)."""

    shown: int
    section: SectionDraft


def _clean(text: str) -> str:
    return normalize_space(text).strip(" .!?\"'“”‘’")


def _find(slots: list[_Slot], match: re.Match[str]) -> _Slot | None:
    if match.group("num"):
        number = int(match.group("num"))
        return next((s for s in slots if s.shown == number), None)
    topic = _clean(match.group("topic") or match.group("topic2") or "")
    for slot in slots:
        if slot.section.title.lower() == topic.lower():
            return slot
    wanted = set(content_terms(topic))
    if not wanted:
        return None
    scored = []
    for position, slot in enumerate(slots):
        title_terms = set(tokenize(slot.section.title))
        other_terms = set(slot.section.focus) | set(tokenize(slot.section.description))
        score = 2 * len(wanted & title_terms) + len(wanted & other_terms)
        scored.append((score, -position, slot))
    best = max(scored, key=lambda s: (s[0], s[1]), default=None)
    return best[2] if best is not None and best[0] > 0 else None


def apply_comment(outline: OutlineDraft, comment: str, index: CorpusIndex) -> OutlineDraft:
    """The outline after the comment's instructions; every clause leaves a note in ``thought``."""
    slots = [_Slot(i, s) for i, s in enumerate(outline.sections, start=1)]
    notes = [f"Revision requested: {normalize_space(comment)}."]
    for clause in (c for c in (_clean(part) for part in _CLAUSES.split(comment)) if c):
        notes.append(_apply_clause(slots, clause, index))
    return replace(outline, sections=tuple(s.section for s in slots), thought=(*outline.thought, *notes))


def _apply_clause(slots: list[_Slot], clause: str, index: CorpusIndex) -> str:
    if match := _DROP.match(clause):
        slot = _find(slots, match)
        if slot is None:
            return f"Not applied ({clause}): no section matches."
        if len(slots) == 1:
            return f"Not applied ({clause}): an outline needs at least one section."
        slots.remove(slot)
        return f"Dropped the section {slot.section.title!r}."
    if match := _RENAME.match(clause):
        slot = _find(slots, match)
        new = _clean(match.group("new"))
        if slot is None or not new:
            return f"Not applied ({clause}): no section matches."
        old = slot.section.title
        slot.section = replace(slot.section, title=new)
        return f"Renamed {old!r} to {new!r}."
    if match := _MOVE.match(clause):
        slot = _find(slots, match)
        if slot is None:
            return f"Not applied ({clause}): no section matches."
        where = (match.group("where") or "").lower()
        position = 0 if where in ("top", "start", "beginning", "front", "first") else len(slots) - 1
        if match.group("pos"):
            position = min(max(int(match.group("pos")) - 1, 0), len(slots) - 1)
        slots.remove(slot)
        slots.insert(position, slot)
        return f"Moved {slot.section.title!r} to position {position + 1}."
    if match := _ADD.match(clause):
        topic = _clean(match.group("topic"))
        if not content_terms(topic):
            return f"Not applied ({clause}): no topic to add."
        if len(slots) >= MAX_USER_SECTIONS:
            return f"Not applied ({clause}): an outline has at most {MAX_USER_SECTIONS} sections."
        section = section_for_topic(index, topic)
        slots.append(_Slot(0, section))
        if not section.description:
            return f"Added a section on {topic}, though no document in the corpus matches it."
        return f"Added a section on {topic}."
    return f"Noted, not applied to the structure: {clause}."

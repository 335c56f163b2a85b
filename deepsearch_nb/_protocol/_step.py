"""Step mode: what a run paused at a stage boundary shows (``StepPoint``) and what it is told (``StepAction``).

A step pause is the runtime's own stop, not the agent's: the openJiuwen stream has no such interrupt. It
travels the same road as an agent's question (a :class:`HitlRequest` of stage ``step``, answered with a
:class:`HitlAnswer`) so that everything that handles stops (scripted answers, the timeout, the panel, the
transcript, the report's ``hitl`` list, ``reproduce()``) handles it too. The answer's ``feedback`` is
``accepted`` and its ``message`` is the action as JSON; the shorthand strings scripted answers use
("continue", "run to end", "drop: 2, 3", "plan: <new description>", "rewrite: <instructions>") are read
by :meth:`StepAction.parse`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._errors import InvalidInputError

__all__ = ["STEP_AGENT", "StepAction", "StepKind", "StepPoint", "StepSource"]

STEP_AGENT = "runtime"
"""The ``agent`` of a step pause's request: the runtime paused the run, not a graph node."""


class StepKind(StrEnum):
    """The stage boundary a stepped run paused at."""

    QUESTIONS = "questions"  # after the clarifying questions (when the agent does not stop there itself)
    OUTLINE = "outline"  # after the outline (when the agent does not ask for its review itself)
    PLAN = "plan"  # a section's plan, before the section is researched
    SOURCES = "sources"  # a section's sources are gathered, before it is written
    SECTION = "section"  # a section is written
    REPORT = "report"  # every section is written, before the final report


class StepSource(BaseModel):
    """One gathered source at the source gate: what a person needs to keep or drop it."""

    url: str
    title: str = ""
    where: str = ""  # the file or site it comes from
    passage: str = ""  # the passage it gave the section


class StepPoint(BaseModel):
    """What a stepped run produced at the boundary it paused at, and which edits fit there."""

    model_config = ConfigDict(extra="allow")

    kind: StepKind
    section: int = 0  # 1-based; 0 when the pause is not about one section
    sections: int = 0  # how many sections the outline has (0: not known yet)
    title: str = ""  # the section's title (or the report's)
    description: str = ""  # plan: what the section will research
    focus: list[str] = Field(default_factory=list)  # plan: the section's key terms
    sources: list[StepSource] = Field(default_factory=list)  # sources: the gate
    text: str = ""  # section: the section as written; outline/report: a summary
    edits: list[str] = Field(default_factory=list)  # the actions that fit besides continue / run_to_end

    @property
    def label(self) -> str:
        """ "section 2 of 4: plan" and the like, for a header."""
        where = f"section {self.section} of {self.sections}: " if self.section else ""
        return f"{where}{self.kind.value}"


Action = Literal["continue", "run_to_end", "edit_plan", "drop_sources", "rewrite"]
_EDIT_AT: dict[str, StepKind] = {
    "edit_plan": StepKind.PLAN,
    "drop_sources": StepKind.SOURCES,
    "rewrite": StepKind.SECTION,
}


class StepAction(BaseModel):
    """What to do at a step pause: go on (``continue``), leave step mode (``run_to_end``), or an edit."""

    model_config = ConfigDict(frozen=True)

    action: Action = "continue"
    title: str | None = None  # edit_plan: a new title (None keeps it)
    description: str | None = None  # edit_plan: a new description
    focus: list[str] | None = None  # edit_plan: new key terms
    drop: list[str] = Field(default_factory=list)  # drop_sources: the URLs to leave out
    instructions: str = ""  # rewrite: what to change

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def parse(cls, value: StepAction | str | dict[str, Any]) -> StepAction:
        """An action from JSON, a dict or shorthand text, with an error that says what is accepted."""
        if isinstance(value, StepAction):
            return value
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                try:
                    value = json.loads(text)
                except ValueError as exc:
                    raise InvalidInputError(f"The step action is not valid JSON: {exc}.") from None
            else:
                return cls._shorthand(text)
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidInputError(
                f"Not a step action ({'.'.join(str(p) for p in first['loc'])}: {first['msg']}); use "
                "'continue', 'run to end', 'plan: <description>', 'drop: <url or number>, ...' or "
                "'rewrite: <instructions>'."
            ) from None

    @classmethod
    def _shorthand(cls, text: str) -> StepAction:
        lowered = text.lower()
        if lowered in ("", "continue", "accept", "accepted", "next", "go"):
            return cls()
        if lowered.replace("-", " ").replace("_", " ") in ("run to end", "run", "finish"):
            return cls(action="run_to_end")
        head, _, rest = text.partition(":")
        head, rest = head.strip().lower(), rest.strip()
        if head == "plan" and rest:
            return cls(action="edit_plan", description=rest)
        if head == "drop":
            return cls(action="drop_sources", drop=[p.strip() for p in rest.split(",") if p.strip()])
        if head == "rewrite" and rest:
            return cls(action="rewrite", instructions=rest)
        raise InvalidInputError(
            f"{text[:60]!r} is not a step action; use 'continue', 'run to end', 'plan: <description>', "
            "'drop: <url or number>, ...' or 'rewrite: <instructions>'."
        )

    def check(self, point: StepPoint | None) -> None:
        """Refuse an edit that does not fit the pause (a source gate edit at a plan, say)."""
        kind = _EDIT_AT.get(self.action)
        if kind is None:
            return
        if point is None or point.kind is not kind or self.action not in point.edits:
            where = point.label if point is not None else "this pause"
            fits = ", ".join(point.edits) if point is not None and point.edits else "none"
            raise InvalidInputError(
                f"{self.action!r} does not fit the step pause at {where} (edits that fit here: {fits}); "
                "answer 'continue' or 'run to end'."
            )
        if self.action == "edit_plan" and not any((self.title, self.description, self.focus)):
            raise InvalidInputError("A plan edit needs a new title, description or focus terms.")
        if self.action == "rewrite" and not self.instructions.strip():
            raise InvalidInputError("A rewrite needs instructions that say what to change in the section.")

    def dropped(self, sources: list[StepSource]) -> set[str]:
        """The URLs of ``sources`` this action drops (an entry is a URL or a 1-based number)."""
        urls: set[str] = set()
        for entry in self.drop:
            if entry.isdigit() and 1 <= int(entry) <= len(sources):
                urls.add(sources[int(entry) - 1].url)
            else:
                urls.add(entry)
        return urls

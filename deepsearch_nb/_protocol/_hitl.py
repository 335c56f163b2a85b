"""Human-in-the-loop: what a paused run asks (``HitlRequest``) and how it is answered (``HitlAnswer``).

The interrupt chunk carries only a prompt string; the questions and the outline arrive in the chunks
before it. A request therefore bundles the prompt with what preceded it, so a UI can show it whole.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .._errors import InvalidInputError
from ._step import StepAction, StepPoint
from ._text import repair_text
from ._values import HitlStage, InterruptFeedback

__all__ = ["HitlAnswer", "HitlRequest", "Outline", "OutlineSection"]


class OutlineSection(BaseModel):
    """One section of an outline; the agent's many planning fields are kept as extra keys."""

    model_config = ConfigDict(extra="allow")

    id: str = ""
    title: str
    description: str = ""


class Outline(BaseModel):
    """The ``Outline`` JSON the ``outline`` agent streams and ``revise_outline`` sends back."""

    model_config = ConfigDict(extra="allow")

    id: str = ""
    language: str = "en-US"
    thought: str = ""
    title: str = ""
    sections: list[OutlineSection] = Field(min_length=1)

    @classmethod
    def parse(cls, text: str | dict[str, Any] | Outline) -> Outline:
        """Read an outline from JSON text or a dict, with an error that says what to fix."""
        if isinstance(text, Outline):
            return text
        try:
            if isinstance(text, str):
                return cls.model_validate_json(text)
            return cls.model_validate(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "outline"
            raise InvalidInputError(
                f"The outline is not valid ({where}: {first['msg']}). Send a JSON object like "
                '{"title": "...", "sections": [{"title": "...", "description": "..."}]}.'
            ) from None


_ALLOWED = {
    HitlStage.CLARIFICATION: (InterruptFeedback.ACCEPTED,),
    HitlStage.OUTLINE_REVIEW: (
        InterruptFeedback.ACCEPTED,
        InterruptFeedback.REVISE_COMMENT,
        InterruptFeedback.REVISE_OUTLINE,
    ),
    HitlStage.REPORT_FEEDBACK: (InterruptFeedback.NONE, InterruptFeedback.ACCEPTED),
    HitlStage.STEP: (InterruptFeedback.ACCEPTED,),
}


class HitlRequest(BaseModel):
    """What a run that stopped at ``waiting_user_input`` is waiting on."""

    stage: HitlStage
    agent: str
    prompt: str
    questions: str = ""  # clarification: the generate_questions text
    outline: Outline | None = None  # outline review: the last outline
    round: int | None = None  # outline review: "Round N"
    conversation_id: str = ""
    step: StepPoint | None = None  # a step pause: what the stage produced (stage ``step`` only)

    @property
    def allowed_feedback(self) -> tuple[InterruptFeedback, ...]:
        """The ``interrupt_feedback`` values that make sense for this stage (cancel is always possible)."""
        return _ALLOWED[self.stage]

    def check(self, answer: HitlAnswer) -> None:
        """Refuse an answer that does not fit this stage, before it reaches the agent and costs the session."""
        if answer.feedback == InterruptFeedback.CANCEL:
            return
        if answer.feedback not in self.allowed_feedback:
            allowed = ", ".join(repr(f.value) for f in self.allowed_feedback)
            raise InvalidInputError(
                f"{answer.feedback.value!r} does not answer a {self.stage.value} question; use one of {allowed}."
            )
        if answer.feedback == InterruptFeedback.REVISE_OUTLINE:
            Outline.parse(answer.message)
        if self.stage == HitlStage.STEP:
            StepAction.parse(answer.message).check(self.step)


class HitlAnswer(BaseModel):
    """An answer to a paused run: the ``interrupt_feedback`` value and its ``message``."""

    model_config = ConfigDict(frozen=True)

    feedback: InterruptFeedback
    message: str = ""

    @field_validator("message")
    @classmethod
    def _valid_unicode(cls, message: str) -> str:
        """Answers are text entering the system: repaired like chunks (lone surrogates -> U+FFFD)."""
        return repair_text(message)

    @classmethod
    def answer(cls, text: str) -> HitlAnswer:
        """Answer clarification questions (an empty text lets the agent go on without one)."""
        return cls(feedback=InterruptFeedback.ACCEPTED, message=text)

    @classmethod
    def accept(cls) -> HitlAnswer:
        return cls(feedback=InterruptFeedback.ACCEPTED, message="")

    @classmethod
    def revise(cls, comment: str) -> HitlAnswer:
        """Ask for a new outline, described in words ("add a section on costs")."""
        if not comment.strip():
            raise InvalidInputError("A revision needs a comment that says what to change in the outline.")
        return cls(feedback=InterruptFeedback.REVISE_COMMENT, message=comment)

    @classmethod
    def replace_outline(cls, outline: Outline | dict[str, Any] | str) -> HitlAnswer:
        """Replace the outline with one you wrote (validated here, sent as JSON)."""
        parsed = Outline.parse(outline)
        return cls(feedback=InterruptFeedback.REVISE_OUTLINE, message=parsed.model_dump_json())

    @classmethod
    def step(cls, action: StepAction | str | dict[str, Any] = "continue") -> HitlAnswer:
        """Answer a step pause: ``"continue"``, ``"run to end"``, or an edit (see :class:`StepAction`)."""
        return cls(feedback=InterruptFeedback.ACCEPTED, message=StepAction.parse(action).to_json())

    @classmethod
    def cancel(cls) -> HitlAnswer:
        return cls(feedback=InterruptFeedback.CANCEL, message="")

    @classmethod
    def coerce(cls, value: HitlAnswer | str | dict[str, Any], stage: HitlStage | None = None) -> HitlAnswer:
        """Accept the shorthand forms scripted answers use.

        ``"accept"``/``"accepted"`` accept, ``"cancel"`` cancels, ``"revise: <comment>"`` revises, a
        string starting with ``{`` replaces the outline; any other string answers a question, or, at
        outline review, is a revision comment (nobody types prose to mean "accept"). A dict is
        ``{"feedback": ..., "message": ...}``.

        At outline review, text that starts with ``{`` or ``[`` is an outline someone wrote: if it is
        not valid JSON it is refused with the JSON error and its position (an :class:`InvalidInputError`,
        so the run stays paused), never taken as an "accept" that would lose the outline.
        """
        if isinstance(value, HitlAnswer):
            return value
        if isinstance(value, dict) and "action" in value:
            return cls.step(value)
        if isinstance(value, dict):
            try:
                return cls.model_validate(value)
            except ValidationError as exc:
                raise InvalidInputError(f"Not a HITL answer: {value!r} ({exc.errors()[0]['msg']}).") from None
        if not isinstance(value, str):
            raise InvalidInputError(f"A scripted answer must be a string or a dict, not {type(value).__name__}.")
        value = repair_text(value)
        stripped = value.strip()
        lowered = stripped.lower()
        if lowered in ("accept", "accepted"):
            return cls.accept()
        if lowered == "cancel":
            return cls.cancel()
        if stage == HitlStage.STEP:  # the action as JSON: "continue", "drop: 2", ... are read here
            return cls.step(value)
        if lowered.startswith("revise:"):
            return cls.revise(stripped[len("revise:") :].strip())
        if stage == HitlStage.OUTLINE_REVIEW and stripped.startswith(("{", "[")):
            try:
                json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(
                    f"The outline you sent is not valid JSON: {exc.msg} at line {exc.lineno}, column "
                    f"{exc.colno} (character {exc.pos}). Fix it and send it again (nothing was sent to the "
                    "agent), or start a comment with 'revise:' to describe the change in words."
                ) from None
            return cls.replace_outline(stripped)
        if stripped.startswith("{"):
            try:
                json.loads(stripped)
            except ValueError:
                return cls.answer(value)
            return cls.replace_outline(stripped)
        if stage == HitlStage.OUTLINE_REVIEW and stripped:
            return cls.revise(stripped)
        return cls.answer(value)

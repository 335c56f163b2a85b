"""What a conversation keeps between two ``run`` calls: the checkpoint taken at its last interrupt.

A session is immutable. A round works from the stored checkpoint and stores a new one only at its next
interrupt (or drops it at ``ALL END``), so a round that is cancelled or abandoned half-way leaves the
conversation exactly where its last question left it - like the SDK's checkpointer, which also only
saves at interrupts.

Where sessions live is a :class:`SessionStore`: in this process by default (:class:`MemorySessionStore`),
or somewhere several processes share (the team server keeps them in Redis), which is why a session turns
into plain JSON data and back (:func:`session_to_data`, :func:`session_from_data`): the worker that
resumes a conversation need not be the one that paused it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from ..._errors import InvalidInputError
from ._config import LocalSettings
from ._focus import Focus
from ._outline import OutlineDraft, SectionDraft

__all__ = [
    "SESSION_FORMAT",
    "MemorySessionStore",
    "Session",
    "SessionStore",
    "Stage",
    "session_from_data",
    "session_to_data",
]

SESSION_FORMAT = 1
"""The version of :func:`session_to_data`'s output; a reader refuses another one rather than guess."""


class Stage(StrEnum):
    """Which interrupt the conversation is waiting at."""

    CLARIFICATION = "feedback_handler"
    OUTLINE_REVIEW = "outline_interaction"


@dataclass(frozen=True, slots=True)
class Session:
    stage: Stage
    settings: LocalSettings
    focus: Focus
    template: str = ""  # the report template given with the question
    outline: OutlineDraft | None = None
    round: int = 0  # outline reviews shown so far: the "Round N" of the last one
    calls: int = 1  # run() calls on this conversation so far; namespaces the message ids


def session_to_data(session: Session) -> dict[str, Any]:
    """The session as JSON-ready data (everything in it is plain text and numbers: no keys, no paths)."""
    data = asdict(session)
    data["stage"] = session.stage.value
    data["format"] = SESSION_FORMAT
    return data


def session_from_data(data: Any) -> Session:
    """The session :func:`session_to_data` made; raises :class:`InvalidInputError` for anything else."""
    try:
        if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
            raise ValueError(f"not a session of format {SESSION_FORMAT}")
        outline = data.get("outline")
        draft = None
        if outline is not None:
            sections = tuple(
                SectionDraft(str(s["title"]), str(s.get("description", "")), tuple(s.get("focus", ())))
                for s in outline["sections"]
            )
            draft = OutlineDraft(str(outline["title"]), sections, tuple(outline.get("thought", ())))
        return Session(
            stage=Stage(data["stage"]),
            settings=LocalSettings(**data["settings"]),
            focus=Focus(**data["focus"]),
            template=str(data.get("template", "")),
            outline=draft,
            round=int(data.get("round", 0)),
            calls=int(data.get("calls", 1)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"A stored local-agent session cannot be read ({exc}); it was written by "
            "another version or damaged. Start the conversation again."
        ) from None


@runtime_checkable
class SessionStore(Protocol):
    """Where :class:`LocalResearchAgent` keeps paused conversations between rounds.

    ``load`` / ``save`` / ``delete`` may reach another process (they are awaited); ``held`` is this
    process's own view, for :meth:`LocalResearchAgent.pending_conversations`.
    """

    async def load(self, conversation_id: str) -> Session | None: ...

    async def save(self, conversation_id: str, session: Session) -> None: ...

    async def delete(self, conversation_id: str) -> None: ...

    def held(self) -> tuple[str, ...]: ...


class MemorySessionStore:
    """The default store: a dict in this process (a conversation resumes only on the agent that paused it)."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    async def load(self, conversation_id: str) -> Session | None:
        return self._sessions.get(conversation_id)

    async def save(self, conversation_id: str, session: Session) -> None:
        self._sessions[conversation_id] = session

    async def delete(self, conversation_id: str) -> None:
        self._sessions.pop(conversation_id, None)

    def held(self) -> tuple[str, ...]:
        return tuple(self._sessions)

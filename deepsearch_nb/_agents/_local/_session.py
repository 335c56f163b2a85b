"""What a conversation keeps between two ``run`` calls: the checkpoint taken at its last interrupt.

A session is immutable. A round works from the stored checkpoint and stores a new one only at its next
interrupt (or drops it at ``ALL END``), so a round that is cancelled or abandoned half-way leaves the
conversation exactly where its last question left it - like the SDK's checkpointer, which also only
saves at interrupts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ._config import LocalSettings
from ._focus import Focus
from ._outline import OutlineDraft

__all__ = ["Session", "Stage"]


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

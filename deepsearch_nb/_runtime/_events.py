"""What the runtime tells its observers. Data flows one way: agent -> runtime -> these events -> ui."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._protocol import Chunk, HitlAnswer, HitlRequest, MalformedChunk
from ._state import RunState

if TYPE_CHECKING:
    from ._run import Run

__all__ = [
    "AnswerSubmitted",
    "ChunkReceived",
    "HitlRequested",
    "MalformedChunkReceived",
    "RunEvent",
    "StateChanged",
]


@dataclass(frozen=True, slots=True)
class ChunkReceived:
    """A chunk was read from the agent (or the runtime's own cancel chunk)."""

    run: Run
    chunk: Chunk


@dataclass(frozen=True, slots=True)
class MalformedChunkReceived:
    """A chunk could not be read; the run goes on and the raw text is kept."""

    run: Run
    malformed: MalformedChunk


@dataclass(frozen=True, slots=True)
class HitlRequested:
    """The run stopped at an interrupt and waits for an answer (the state change follows)."""

    run: Run
    request: HitlRequest


@dataclass(frozen=True, slots=True)
class AnswerSubmitted:
    """An answer was accepted and the next round starts."""

    run: Run
    request: HitlRequest
    answer: HitlAnswer


@dataclass(frozen=True, slots=True)
class StateChanged:
    run: Run
    state: RunState
    previous: RunState


RunEvent = ChunkReceived | MalformedChunkReceived | HitlRequested | AnswerSubmitted | StateChanged

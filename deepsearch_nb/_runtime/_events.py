"""What the runtime tells its observers. Data flows one way: agent -> runtime -> these events -> ui.

Events carry what changed (the chunk and what the progress fold learnt from it, the question, the
answer, the new state), so an observer never reads the run's progress back or parses a payload again.
They do not point back at the run: an observer subscribes to one run and knows which one it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .._agents._usage import TokenUsage
from .._protocol import Chunk, HitlAnswer, HitlRequest, MalformedChunk, ProgressUpdate
from ._state import RunState

__all__ = [
    "AnswerBy",
    "AnswerSubmitted",
    "ChunkReceived",
    "HitlRequested",
    "MalformedChunkReceived",
    "Notice",
    "NoticeKind",
    "RunEvent",
    "StateChanged",
    "UsageReported",
]


class AnswerBy(StrEnum):
    """Who answered a stop: recorded in the run, its report and its transcript."""

    PERSON = "person"  # typed in the panel, at a terminal prompt, or handle.submit(...)
    SCRIPTED = "scripted"  # the answers= script (or the CLI's --answer)
    TIMEOUT = "timeout"  # nobody answered in time: the run was cancelled
    REPLAY = "replay"  # a recorded answer replayed from a transcript


class NoticeKind(StrEnum):
    """Something a person should know about a run that is not a state change."""

    STALLED = "stalled"  # no output for a while (the watchdog)
    RESUMED_OUTPUT = "resumed_output"  # output came again after a stall
    ABANDONED = "abandoned"  # the agent ignored cancellation; its task was left behind
    UNCLEAN_END = "unclean_end"  # the agent's stream did not end cleanly after its last chunk
    AGENT_WARNING = "agent_warning"  # a recoverable error the agent reported


@dataclass(frozen=True, slots=True)
class ChunkReceived:
    """A chunk was read from the agent (or the runtime's own cancel chunk), with what it changed."""

    chunk: Chunk
    update: ProgressUpdate


@dataclass(frozen=True, slots=True)
class MalformedChunkReceived:
    """A chunk could not be read; the run goes on and the raw text is kept."""

    malformed: MalformedChunk


@dataclass(frozen=True, slots=True)
class HitlRequested:
    """The run stopped at an interrupt and waits for an answer (the state change follows)."""

    request: HitlRequest


@dataclass(frozen=True, slots=True)
class AnswerSubmitted:
    """An answer was accepted and the next round starts."""

    request: HitlRequest
    answer: HitlAnswer
    by: AnswerBy


@dataclass(frozen=True, slots=True)
class StateChanged:
    state: RunState
    previous: RunState


@dataclass(frozen=True, slots=True)
class Notice:
    """A warning about the run that a panel and a report show (stalled, abandoned, unclean end)."""

    kind: NoticeKind
    message: str


@dataclass(frozen=True, slots=True)
class UsageReported:
    """The agent reported the tokens of an LLM call; ``total`` is the run's tokens so far (in plus out)."""

    usage: TokenUsage
    total: int


RunEvent = (
    ChunkReceived | MalformedChunkReceived | HitlRequested | AnswerSubmitted | StateChanged | Notice | UsageReported
)

"""For people building on the run manager (servers, CLIs, other front ends): runs, events, cancel buses.

``RunManager`` is the kernel's port of the DeepSearch run router; a ``Run`` is a read-only record of one
conversation that the manager steers; events carry what changed; ``Session`` answers a run's questions
(scripted answers, an asker, a person, a timeout). Nothing here imports widgets or IPython.
"""

from __future__ import annotations

from ._errors import RunNotFound
from ._public import publish_module
from ._runtime._answers import Answers, ScriptedAnswers
from ._runtime._budget import Budget, watch_budget
from ._runtime._bus import CANCEL_CHANNEL, CancelBus, LocalCancelBus, RedisCancelBus
from ._runtime._events import (
    AnswerBy,
    AnswerSubmitted,
    ChunkReceived,
    HitlRequested,
    MalformedChunkReceived,
    Notice,
    NoticeKind,
    RunEvent,
    StateChanged,
    UsageReported,
)
from ._runtime._limits import ManagerStats
from ._runtime._manager import RunManager, default_manager
from ._runtime._record import HitlExchange, Round
from ._runtime._run import Run
from ._runtime._session import AnswerTimeout, Asker, Session, drive
from ._runtime._state import CancelOutcome, RunState
from ._runtime._sync import run_sync
from ._runtime._transcript import Transcript, TranscriptWriter, read_transcript

__all__ = [
    "CANCEL_CHANNEL",
    "AnswerBy",
    "AnswerSubmitted",
    "AnswerTimeout",
    "Answers",
    "Asker",
    "Budget",
    "CancelBus",
    "CancelOutcome",
    "ChunkReceived",
    "HitlExchange",
    "HitlRequested",
    "LocalCancelBus",
    "MalformedChunkReceived",
    "ManagerStats",
    "Notice",
    "NoticeKind",
    "RedisCancelBus",
    "Round",
    "Run",
    "RunEvent",
    "RunManager",
    "RunNotFound",
    "RunState",
    "ScriptedAnswers",
    "Session",
    "StateChanged",
    "Transcript",
    "TranscriptWriter",
    "UsageReported",
    "default_manager",
    "drive",
    "read_transcript",
    "run_sync",
    "watch_budget",
]

publish_module(__name__, globals(), __all__)

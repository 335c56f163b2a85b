"""Layer 3, the runtime: the run manager (the kernel's port of the DeepSearch run router), run records,
events, cancel buses, and the session driver that answers a run's questions. No widgets, no IPython."""

from ._answers import Answers, ScriptedAnswers
from ._bus import CANCEL_CHANNEL, CancelBus, LocalCancelBus, RedisCancelBus
from ._events import (
    AnswerBy,
    AnswerSubmitted,
    ChunkReceived,
    HitlRequested,
    MalformedChunkReceived,
    Notice,
    NoticeKind,
    RunEvent,
    StateChanged,
)
from ._limits import ManagerStats
from ._manager import RunManager, default_manager
from ._record import HitlExchange, Round
from ._run import Run
from ._session import AnswerTimeout, Asker, Session, drive
from ._state import CancelOutcome, RunState
from ._sync import run_sync

__all__ = [
    "CANCEL_CHANNEL",
    "AnswerBy",
    "AnswerSubmitted",
    "AnswerTimeout",
    "Answers",
    "Asker",
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
    "RunState",
    "ScriptedAnswers",
    "Session",
    "StateChanged",
    "default_manager",
    "drive",
    "run_sync",
]

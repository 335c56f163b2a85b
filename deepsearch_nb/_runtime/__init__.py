"""Layer 3, the runtime: the run manager (the kernel's port of the DeepSearch run router). No widgets."""

from ._bus import CANCEL_CHANNEL, CancelBus, LocalCancelBus, RedisCancelBus
from ._events import (
    AnswerSubmitted,
    ChunkReceived,
    HitlRequested,
    MalformedChunkReceived,
    RunEvent,
    StateChanged,
)
from ._manager import ManagerStats, RunManager, default_manager
from ._run import HitlExchange, Round, Run
from ._state import CancelOutcome, RunState

__all__ = [
    "CANCEL_CHANNEL",
    "AnswerSubmitted",
    "CancelBus",
    "CancelOutcome",
    "ChunkReceived",
    "HitlExchange",
    "HitlRequested",
    "LocalCancelBus",
    "MalformedChunkReceived",
    "ManagerStats",
    "RedisCancelBus",
    "Round",
    "Run",
    "RunEvent",
    "RunManager",
    "RunState",
    "StateChanged",
    "default_manager",
]

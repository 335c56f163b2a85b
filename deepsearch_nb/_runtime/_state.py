"""A run's lifecycle and the outcomes of a cancel request, as enums with one comment per value."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CancelOutcome", "RunState"]


class RunState(StrEnum):
    """Where a run is. The value is also the name shown to users (panel badge, report status)."""

    RUNNING = "RUNNING"  # a round is streaming from the agent
    WAITING_USER_INPUT = "WAITING_USER_INPUT"  # paused at an interrupt; resumable by an answer
    CANCELLED = "CANCELLED"  # terminal: stopped by a cancel, an eviction or a cancelled key
    COMPLETED = "COMPLETED"  # terminal: ALL END arrived with a result and no error
    FAILED = "FAILED"  # terminal: the agent raised, reported an error, or stopped mid-stream

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def settled(self) -> bool:
        """Nothing streams until someone acts: waiting for an answer, or over."""
        return self is RunState.WAITING_USER_INPUT or self in _TERMINAL


_TERMINAL = frozenset({RunState.CANCELLED, RunState.COMPLETED, RunState.FAILED})


class CancelOutcome(StrEnum):
    """What a cancel request did; the values are the DeepSearch server's ``status`` strings."""

    CANCELLING = "cancelling"  # a local run (streaming or paused) was found and is being stopped
    FORWARDED = "forwarded"  # not here: published on the cancel bus for the worker that has it
    NO_ACTIVE_TASK_OR_FORWARD_FAILED = "no_active_task_or_forward_failed"  # nothing to cancel anywhere

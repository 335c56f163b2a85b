"""The seam through which an agent that knows its own stages lets step mode pause it.

The runtime sets a hook in :data:`step_context` in the task that iterates the agent (as it sets the cancel
event), for every run. An agent that reports its stage boundaries (:class:`SupportsStepPoints`, the local
agent) awaits :func:`step_point` at each: outside step mode it returns ``continue`` at once; in step mode
the await lasts as long as the pause, so the agent really stops computing, and what it returns is the
person's edit for the agent to apply. An agent that does not report them (the SDK, a remote server, a
replay) is paused by the runtime between two chunks of its stream instead (the stream is held).
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable
from typing import Protocol, runtime_checkable

from .._protocol._step import StepAction, StepPoint

__all__ = ["StepHook", "SupportsStepPoints", "step_context", "step_point", "stepping"]


class StepHook(Protocol):
    """What the runtime puts in :data:`step_context`: ``active`` is step mode now; a call is one pause."""

    @property
    def active(self) -> bool: ...

    def __call__(self, point: StepPoint) -> Awaitable[StepAction]: ...


step_context: contextvars.ContextVar[StepHook | None] = contextvars.ContextVar("deepsearch_nb_step_hook", default=None)
"""The step hook of the run being iterated in this context (None outside a run)."""

_CONTINUE = StepAction()


def stepping() -> bool:
    """Step mode is on for the run iterated here (so a step point is worth building)."""
    hook = step_context.get()
    return hook is not None and hook.active


async def step_point(point: StepPoint) -> StepAction:
    """A stage boundary: pauses here in step mode; returns what to do (``continue`` outside step mode)."""
    hook = step_context.get()
    if hook is None or not hook.active:
        return _CONTINUE
    return await hook(point)


@runtime_checkable
class SupportsStepPoints(Protocol):
    """An agent that calls :func:`step_point` at its stage boundaries (so the runtime does not hold its stream)."""

    def reports_step_points(self) -> bool:
        """True when every ``run`` call awaits :func:`step_point` at the boundaries of :class:`StepKind`."""
        ...

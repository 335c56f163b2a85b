"""What a test asks of the running process: the tasks that outlive it, the cancel event a sender sees."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .._agents._base import cancel_context

__all__ = ["cancel_probe", "tasks_left"]


def cancel_probe() -> str:
    """The run's cancel event as the calling task sees it, e.g. as ``record_http_sends(probe=cancel_probe)``.

    The runtime puts the event into the context of the task that iterates the agent, and every task the
    agent spawns copies that context (the SDK adapter mirrors it into the SDK's own variable there): a send
    made with "no cancel event" or with another event than the run's is one no cancel check can stop.
    """
    event = cancel_context.get(None)
    if event is None:
        return "no cancel event in this context"
    return f"event {id(event):#x} {'set' if event.is_set() else 'not set'}"


async def tasks_left(timeout: float = 5.0) -> list[asyncio.Task[Any]]:
    """The other tasks of this loop still running after waiting up to ``timeout`` for them to end.

    A real agent's cancelled tasks can still be unwinding when its run is already CANCELLED (the SDK closes
    its generator before every task it spawned has ended); on a loaded machine that takes a while. A leaked
    task never ends, so a check that waits for quiet, and measures nothing, tells the two apart.
    """
    current = asyncio.current_task()
    deadline = time.monotonic() + timeout
    while left := [t for t in asyncio.all_tasks() if t is not current and not t.done()]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await asyncio.wait(left, timeout=remaining)
    return left

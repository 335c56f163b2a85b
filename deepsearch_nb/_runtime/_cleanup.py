"""Releasing what an agent holds for a conversation: the router's cleanup, bounded and never leaking keys."""

from __future__ import annotations

import asyncio
import logging

from .._agents._base import SupportsSessionCleanup, SupportsTaskCancel
from .._secrets import describe_exception, scrub_text
from ._record import RunRecord

__all__ = ["cleanup_agent"]

_log = logging.getLogger("deepsearch_nb.runtime")


async def cleanup_agent(record: RunRecord, *, cancelled: bool, timeout: float) -> list[asyncio.Task[None]]:
    """Controller tasks (on cancel), then the session cache; each bounded by ``timeout``, errors logged.

    Each step runs in a task of its own and is waited for with a timeout that does not rely on the agent
    honouring a cancel: a step that swallows it is left running and returned, for the caller to count.
    The log line carries the error's text with the run's secrets masked and no traceback: an agent's
    exception may echo the key it was given.
    """
    agent = record.agent
    steps = []
    if cancelled and isinstance(agent, SupportsTaskCancel):
        steps.append(("cancel_tasks", agent.cancel_tasks))
    if isinstance(agent, SupportsSessionCleanup):
        steps.append(("cleanup_session", agent.cleanup_session))
    left: list[asyncio.Task[None]] = []
    limit = max(timeout, 0.5)
    for name, step in steps:
        try:
            task = asyncio.ensure_future(step(record.conversation_id))
        except Exception as exc:  # not a coroutine function after all, or it raised on the call
            _log.warning("%s failed for %s: %s", name, record.key, _scrubbed(exc, record))
            continue
        done, _ = await asyncio.wait({task}, timeout=limit)
        if not done:
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=0.05)
            _log.warning("%s did not finish within %.1fs for %s", name, limit, record.key)
            if not done:
                task.add_done_callback(_retrieve)
                left.append(task)
                continue
        _retrieve(task, name, record)
    return left


def _retrieve(task: asyncio.Task[None], name: str = "a cleanup step", record: RunRecord | None = None) -> None:
    """Read a finished step's outcome (so asyncio never logs it unread), logging an error scrubbed."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and record is not None:
        _log.warning("%s failed for %s: %s", name, record.key, _scrubbed(exc, record))


def _scrubbed(exc: BaseException, record: RunRecord) -> str:
    return scrub_text(describe_exception(exc), list(record.secrets))

"""Releasing what an agent holds for a conversation: the router's cleanup, bounded and never leaking keys."""

from __future__ import annotations

import asyncio
import logging

from .._agents._base import SupportsSessionCleanup, SupportsTaskCancel
from .._secrets import scrub_text
from ._producer import describe_exception
from ._record import RunRecord

__all__ = ["cleanup_agent"]

_log = logging.getLogger("deepsearch_nb.runtime")


async def cleanup_agent(record: RunRecord, *, cancelled: bool, timeout: float) -> None:
    """Controller tasks (on cancel), then the session cache; each bounded by ``timeout``, errors logged.

    The log line carries the error's text with the run's secrets masked and no traceback: an agent's
    exception may echo the key it was given.
    """
    agent = record.agent
    steps = []
    if cancelled and isinstance(agent, SupportsTaskCancel):
        steps.append(("cancel_tasks", agent.cancel_tasks))
    if isinstance(agent, SupportsSessionCleanup):
        steps.append(("cleanup_session", agent.cleanup_session))
    for name, step in steps:
        try:
            async with asyncio.timeout(max(timeout, 0.5)):
                await step(record.conversation_id)
        except TimeoutError:
            _log.warning("%s did not finish within %.1fs for %s", name, max(timeout, 0.5), record.key)
        except Exception as exc:
            _log.warning(
                "%s failed for %s: %s", name, record.key, scrub_text(describe_exception(exc), list(record.secrets))
            )

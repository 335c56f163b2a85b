"""The stall watchdog: a run that produces nothing for a while says so, instead of looking busy.

One timer per round and no cost per chunk: the check compares the run's chunk count with the count at
the previous check.
"""

from __future__ import annotations

from ._events import Notice, NoticeKind
from ._record import RunRecord
from ._state import RunState

__all__ = ["watch"]


def watch(record: RunRecord, limit_s: float) -> None:
    """(Re)start the watchdog of ``record``'s current round; ``limit_s`` 0 switches it off."""
    if record.watchdog is not None:
        record.watchdog.cancel()
        record.watchdog = None
    if not limit_s:
        return
    seen = record.chunk_total

    def check() -> None:
        nonlocal seen
        if record.state is not RunState.RUNNING or record.cancel_event.is_set():
            record.watchdog = None
            return
        total = record.chunk_total
        if total == seen and not record.stalled:
            record.stalled = True
            message = f"No output for {limit_s:g} s: the agent may be stuck. Wait, or press Cancel."
            record.notice(Notice(NoticeKind.STALLED, message))
        elif total != seen and record.stalled:
            record.stalled = False
            record.notice(Notice(NoticeKind.RESUMED_OUTPUT, "Output resumed."))
        seen = total
        record.watchdog = record.loop.call_later(limit_s, check)

    record.watchdog = record.loop.call_later(limit_s, check)

"""Calling into a run's event loop from any thread: the one thread hop of a steering call."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

__all__ = ["on_loop"]

_T = TypeVar("_T")


def on_loop(loop: asyncio.AbstractEventLoop, fn: Callable[[], _T], timeout: float = 10.0) -> _T:
    """Run ``fn`` on ``loop``'s thread and return its result.

    Directly when we are on that loop already, or when nothing runs it (then no other thread is inside
    it); else handed over with ``call_soon_threadsafe`` (a widget click on a kernel subshell thread).
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop or not loop.is_running():
        return fn()
    future: concurrent.futures.Future[_T] = concurrent.futures.Future()

    def call() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    loop.call_soon_threadsafe(call)
    return future.result(timeout)

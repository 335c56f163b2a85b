"""One long-lived event loop for every synchronous call in a process (``research_sync`` in a script).

``asyncio.run`` makes a new loop per call and closes it after; libraries that cache clients bound to a
loop (the openJiuwen SDK's ``OpenAIModelClient``) then fail on the second call with "Event loop is
closed", and the failure is swallowed deep inside the agent. So sync calls share one loop that lives in a
daemon thread for the life of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["background_loop", "run_sync"]

_T = TypeVar("_T")
_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The process's background loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="deepsearch-nb loop", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def run_sync(make: Callable[[], Awaitable[_T]]) -> _T:
    """Run the coroutine ``make()`` on the background loop and wait for its result.

    Ctrl+C cancels it (the coroutine's own cancellation handling runs, e.g. a research run is cancelled
    and cleaned up) and re-raises ``KeyboardInterrupt``.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("run_sync() blocks: it cannot be called from a running event loop.")

    async def call() -> _T:
        return await make()

    future = asyncio.run_coroutine_threadsafe(call(), background_loop())
    try:
        return future.result()
    except KeyboardInterrupt:
        future.cancel()
        with contextlib.suppress(Exception):  # cancelled, timed out, or failed while stopping
            future.result(timeout=10)
        raise

"""The seed run router's per-chunk work, reproduced on the bench's chunks: the reference for ``runtime``.

What a user would run instead of the run manager is the seed DeepSearch server's run router. For each
chunk of the agent's stream it does (see ``/work/shared/reference/openjiuwen-protocol.md`` §3-§4):

1. ``_wrapped_agent_run``: sets the cancel event in ``cancel_context``, iterates ``agent.run`` and parses
   each chunk's JSON (``json.loads``) to look at it, then yields the chunk string; finally ``aclose()`` and
   ``cancel_context.reset``;
2. ``_produce_stream`` (a task): parses the chunk's JSON *again* (it looks for ``waiting_user_input``) and
   ``await queue.put(chunk)``; a sentinel when the stream ends;
3. the response body (``EventSourceResponse``'s generator): ``await queue.get()`` and frames the chunk for
   SSE with sse-starlette's own ``ensure_bytes`` (``data: <json>\\r\\n\\r\\n``, UTF-8), what the seed's
   response does with a plain ``str``.

Not reproduced: the socket write and HTTP (the manager does none either) and the HITL wait after an
interrupt (the bench's chunks have none). When sse-starlette is not installed (it is in the ``server``,
``bench`` and ``test`` extras), the framing falls back to the same bytes built by hand.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from .._agents._base import Agent, cancel_context

__all__ = ["seed_router_chunks_per_s"]

_DONE = object()


def _framing() -> Callable[[str], bytes]:
    try:
        from sse_starlette.event import ensure_bytes
    except ImportError:  # pragma: no cover - the extras install it
        return lambda data: ("data: " + data + "\r\n\r\n").encode("utf-8")
    return lambda data: bytes(ensure_bytes(data, "\r\n"))


async def _wrapped_agent_run(agent: Agent, cancel: asyncio.Event) -> AsyncIterator[str]:
    token = cancel_context.set(cancel)
    stream: Any = agent.run("q", "bench")
    try:
        async for chunk in stream:
            json.loads(chunk)  # the seed reads each chunk before passing it on
            if cancel.is_set():
                break
            yield chunk
    finally:
        await stream.aclose()
        cancel_context.reset(token)


async def _produce_stream(agent: Agent, queue: asyncio.Queue[object], cancel: asyncio.Event) -> None:
    try:
        async for chunk in _wrapped_agent_run(agent, cancel):
            data = json.loads(chunk)  # parsed again, for the HITL wait
            if data.get("event") == "waiting_user_input":
                break  # (the seed then waits for a resume or a cancel; the bench's chunks have no interrupt)
            await queue.put(chunk)
    finally:
        await queue.put(_DONE)


async def seed_router_chunks_per_s(agent: Agent, expected: int) -> float:
    """Chunks per second through the seed router's path, from the first chunk to the last SSE frame."""
    frame = _framing()
    queue: asyncio.Queue[object] = asyncio.Queue()
    cancel = asyncio.Event()
    start = time.perf_counter()
    producer = asyncio.create_task(_produce_stream(agent, queue, cancel))
    count = nbytes = 0
    while True:
        item = await queue.get()
        if item is _DONE:
            break
        nbytes += len(frame(str(item)))
        count += 1
    await producer
    elapsed = time.perf_counter() - start
    if count != expected or nbytes <= count:
        raise RuntimeError(f"the seed router's path framed {count} of {expected} chunks")
    return count / elapsed

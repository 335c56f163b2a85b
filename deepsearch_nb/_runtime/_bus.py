"""The cancel bus: how a cancel reaches the worker (kernel, server process) that owns the run.

Every manager on a bus receives every cancel and acts only on runs of its own, like the DeepSearch
server's Redis listener. :class:`LocalCancelBus` joins managers of one process (tests, several loops);
:class:`RedisCancelBus` joins processes over Redis pub/sub on the server's channel and message format.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["CANCEL_CHANNEL", "CancelBus", "CancelHandler", "LocalCancelBus", "RedisCancelBus", "listen_forever"]

CANCEL_CHANNEL = "deepsearch:cancel"

CancelHandler = Callable[[str, str], None]
"""Called with ``(space_id, conversation_id)``."""

_log = logging.getLogger("deepsearch_nb.runtime")


class CancelBus(Protocol):
    """Publishes cancels and delivers them to every registered handler."""

    @property
    def connected(self) -> bool:
        """Whether a publish can currently reach the other workers."""
        ...

    def add_handler(self, handler: CancelHandler) -> None: ...

    async def publish(self, space_id: str, conversation_id: str) -> bool:
        """Send a cancel; True when it was handed to the bus."""
        ...


class LocalCancelBus:
    """A bus within one process: publish calls every handler at once."""

    def __init__(self) -> None:
        self._handlers: list[CancelHandler] = []

    @property
    def connected(self) -> bool:
        return True

    def add_handler(self, handler: CancelHandler) -> None:
        self._handlers.append(handler)

    async def publish(self, space_id: str, conversation_id: str) -> bool:
        for handler in tuple(self._handlers):
            try:
                handler(space_id, conversation_id)
            except Exception:
                _log.exception("a cancel handler failed")
        return True


class RedisCancelBus:
    """Redis pub/sub on ``deepsearch:cancel`` with ``{"space_id", "conversation_id"}`` messages.

    ``await bus.start()`` connects (raising ``ConfigurationError`` with the URL when Redis cannot be
    reached, as the server refuses to start); the listener then reconnects with backoff from 1 to 60 s.
    Needs the ``redis`` extra.
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, channel: str = CANCEL_CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self._handlers: list[CancelHandler] = []
        self._client: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._subscribed.is_set()

    def add_handler(self, handler: CancelHandler) -> None:
        self._handlers.append(handler)

    async def start(self) -> None:
        from .._errors import ConfigurationError

        try:
            import redis.asyncio as aioredis
        except ImportError:
            raise ConfigurationError(
                "RedisCancelBus needs the redis package: pip install 'deepsearch-nb[redis]'."
            ) from None
        self._client = aioredis.from_url(self.url)
        try:
            await self._client.ping()
        except Exception as exc:
            await self._client.aclose()
            self._client = None
            raise ConfigurationError(f"Cannot reach Redis at {self.url}: {exc}. Is redis-server running?") from None
        self._listener = asyncio.get_running_loop().create_task(self._listen(), name="deepsearch-nb cancel bus")
        await asyncio.wait_for(self._subscribed.wait(), 10)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._subscribed.clear()

    async def publish(self, space_id: str, conversation_id: str) -> bool:
        if self._client is None:
            return False
        message = json.dumps({"space_id": space_id, "conversation_id": conversation_id})
        try:
            await self._client.publish(self.channel, message)
        except Exception:
            _log.warning("publishing a cancel on %s failed", self.channel, exc_info=True)
            return False
        return True

    async def _listen(self) -> None:
        await listen_forever(self._client, self.channel, self._deliver, self._subscribed, what="cancel bus")

    def _deliver(self, data: Any) -> None:
        try:
            payload = json.loads(data)
            space_id, conversation_id = str(payload["space_id"]), str(payload["conversation_id"])
        except (ValueError, KeyError, TypeError):
            _log.warning("ignoring a malformed cancel message: %r", data)
            return
        for handler in tuple(self._handlers):
            try:
                handler(space_id, conversation_id)
            except Exception:
                _log.exception("a cancel handler failed")


async def listen_forever(
    client: Any, channel: str, deliver: Callable[[Any], None], subscribed: asyncio.Event, *, what: str
) -> None:
    """Deliver every message of a Redis pub/sub ``channel``, for ever, reconnecting when Redis goes away.

    ``subscribed`` is set while the subscription holds (so ``connected`` can say so) and cleared when it is
    lost; retries back off from 1 to 60 s. Only the error's type is logged: a Redis error may quote its URL,
    password included. Shared by the cancel bus and the team server's resume channel.
    """
    backoff = 1.0
    while True:
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(channel)
            subscribed.set()
            backoff = 1.0
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    deliver(message.get("data"))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            subscribed.clear()
            _log.warning("%s lost Redis (%s); retrying in %.0fs", what, type(exc).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60.0)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

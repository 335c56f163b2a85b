"""Redis as the workers' shared engine: the cancel bus, the "resume requested" channel, the paused records.

* **Cancels** travel on the seed's channel and format (``deepsearch:cancel``, ``{"space_id",
  "conversation_id"}``) through the runtime's :class:`RedisCancelBus`, which the worker's run manager owns.
* **Resumes**: when an answer reaches a worker that does not hold the paused run, that worker publishes
  ``{"space_id", "conversation_id", "worker", "epoch"}`` on ``deepsearch:resume``; the holder closes the
  stream it kept open and lets the run go (:mod:`._app`). The same reconnect rule as the cancel bus: a
  listener that loses Redis retries with a backoff from 1 to 60 s.
* **Paused records** (:class:`ConversationRecord`) and the local agent's sessions
  (:class:`RedisSessionStore`) expire after ``ttl_s`` and are evicted oldest first beyond ``capacity``
  paused conversations, across all workers, as the router evicts its HITL sessions.

Every Redis call is bounded (``op_timeout_s``): with Redis gone, a call fails in about that long, a
publish reports that it could not be forwarded and a run in flight goes on streaming.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from .._agents._local._session import Session, session_from_data, session_to_data
from .._errors import ConfigurationError, DeepSearchError
from .._runtime._bus import listen_forever
from ..runtime import RedisCancelBus
from ._records import ConversationRecord

__all__ = ["RESUME_CHANNEL", "RedisSessionStore", "ResumeHandler", "Shared", "SharedUnavailable", "safe_url"]

RESUME_CHANNEL = "deepsearch:resume"
_RECORD = "deepsearch:conversation:"
_PAUSED = "deepsearch:paused"  # sorted set: paused keys by the time they paused
_SESSION = "deepsearch:local-session:"

# KEYS: the record, the paused set. ARGV: record JSON, TTL s, member, now, capacity, record key prefix.
_SAVE_AND_EVICT = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[4]) - tonumber(ARGV[2]))
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
local evicted = {}
if over > 0 then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, over)) do
    if member ~= ARGV[3] and #evicted < over then
      redis.call('ZREM', KEYS[2], member)
      redis.call('DEL', ARGV[6] .. member)
      table.insert(evicted, member)
    end
  end
end
return evicted
"""

ResumeHandler = Callable[[str, str, int, str], None]
"""Called with ``(space_id, conversation_id, epoch, requesting worker)``."""

_log = logging.getLogger("deepsearch_nb.server")
_T = TypeVar("_T")


class SharedUnavailable(DeepSearchError):
    """Redis did not answer; the caller falls back to what this worker knows."""


def safe_url(url: str) -> str:
    """The Redis URL without its password, for logs and ``/health``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Shared:
    """One worker's connection to the shared state (needs the ``redis`` extra); start it on the app's loop."""

    def __init__(
        self, url: str, *, worker: str, ttl_s: float = 7200.0, capacity: int = 100, op_timeout_s: float = 2.0
    ) -> None:
        self.url = url
        self.worker = worker
        self.ttl_s = ttl_s
        self.capacity = capacity
        self.op_timeout_s = op_timeout_s
        self.cancel_bus = RedisCancelBus(url)
        self.sessions = RedisSessionStore(self)
        self._client: Any = None
        self._handlers: list[ResumeHandler] = []
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def add_resume_handler(self, handler: ResumeHandler) -> None:
        self._handlers.append(handler)

    @property
    def connected(self) -> bool:
        return self._subscribed.is_set() and self.cancel_bus.connected

    def status(self) -> dict[str, Any]:
        return {
            "url": safe_url(self.url),
            "connected": self.connected,
            "cancel_bus": self.cancel_bus.connected,
            "resume_channel": self._subscribed.is_set(),
        }

    async def start(self) -> None:
        """Connect, or raise :class:`ConfigurationError` saying which Redis could not be reached."""
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError:
            raise ConfigurationError(
                "The team server needs redis: pip install 'deepsearch-nb[redis,server]'."
            ) from None
        self._client = aioredis.from_url(
            self.url, socket_connect_timeout=self.op_timeout_s, retry=Retry(NoBackoff(), 0)
        )
        try:
            await asyncio.wait_for(self._client.ping(), self.op_timeout_s)
        except Exception as exc:
            await self._client.aclose()
            self._client = None
            raise ConfigurationError(
                f"Cannot reach Redis at {safe_url(self.url)}: {type(exc).__name__}. Start it first "
                "(redis-server --port 6379 --bind 127.0.0.1) or pass the right --redis URL."
            ) from None
        await self.cancel_bus.start()
        self._listener = asyncio.get_running_loop().create_task(self._listen(), name="deepsearch-nb resume channel")
        await asyncio.wait_for(self._subscribed.wait(), 10)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self.cancel_bus.aclose()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._subscribed.clear()

    # --- calls, each bounded ----------------------------------------------------------------------

    async def _call(self, what: str, make: Callable[[Any], Awaitable[_T]]) -> _T:
        if self._client is None:
            raise SharedUnavailable(f"{what}: not connected to Redis")
        try:
            return await asyncio.wait_for(make(self._client), self.op_timeout_s)
        except Exception as exc:
            raise SharedUnavailable(f"{what}: Redis did not answer ({type(exc).__name__})") from None

    async def publish_resume(self, space_id: str, conversation_id: str, epoch: int) -> bool:
        message = json.dumps(
            {"space_id": space_id, "conversation_id": conversation_id, "worker": self.worker, "epoch": epoch}
        )
        try:
            await self._call("publishing a resume", lambda c: c.publish(RESUME_CHANNEL, message))
        except SharedUnavailable as exc:
            _log.warning("%s", exc)
            return False
        return True

    async def load_record(self, key: str) -> ConversationRecord | None:
        raw = await self._call("reading a paused conversation", lambda c: c.get(_RECORD + key))
        if raw is None:
            return None
        try:
            return ConversationRecord.from_json(raw)
        except (ValueError, TypeError):
            _log.warning("ignoring an unreadable paused record for %s", key)
            return None

    async def save_record(self, record: ConversationRecord) -> list[str]:
        """Write the record; returns the keys evicted beyond ``capacity`` (their records are gone).

        One Lua script, so that no other worker's write or drop can slip between counting the paused
        conversations and choosing which to evict (the record just written is never one of them).
        """
        ttl = max(1, int(self.ttl_s))
        args = [record.to_json(), ttl, record.key, time.time(), self.capacity, _RECORD]

        async def write(client: Any) -> list[str]:
            popped = await client.eval(_SAVE_AND_EVICT, 2, _RECORD + record.key, _PAUSED, *args)
            return [m.decode() if isinstance(m, bytes) else str(m) for m in popped]

        return await self._call("saving a paused conversation", write)

    async def drop_record(self, key: str) -> None:
        """Forget a paused record (resumed here, ended, cancelled); a failure is logged, the TTL cleans up."""

        async def drop(client: Any) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.delete(_RECORD + key)
                pipe.zrem(_PAUSED, key)
                await pipe.execute()

        try:
            await self._call("dropping a paused conversation", drop)
        except SharedUnavailable as exc:
            _log.warning("%s", exc)

    async def get(self, name: str) -> bytes | None:
        result: bytes | None = await self._call("reading a session", lambda c: c.get(name))
        return result

    async def put(self, name: str, value: str) -> None:
        await self._call("saving a session", lambda c: c.set(name, value, ex=max(1, int(self.ttl_s))))

    async def delete(self, name: str) -> None:
        await self._call("deleting a session", lambda c: c.delete(name))

    # --- the resume channel -------------------------------------------------------------------------

    async def _listen(self) -> None:
        await listen_forever(self._client, RESUME_CHANNEL, self._deliver, self._subscribed, what="resume channel")

    def _deliver(self, data: Any) -> None:
        try:
            payload = json.loads(data)
            space_id, conversation_id = str(payload["space_id"]), str(payload["conversation_id"])
            epoch, worker = int(payload["epoch"]), str(payload["worker"])
        except (ValueError, KeyError, TypeError):
            _log.warning("ignoring a malformed resume message")
            return
        if worker == self.worker:
            return  # our own request
        for handler in tuple(self._handlers):
            try:
                handler(space_id, conversation_id, epoch, worker)
            except Exception:
                _log.exception("a resume handler failed")


class RedisSessionStore:
    """The local agent's sessions in Redis (``deepsearch:local-session:{conversation}``, with the TTL).

    This worker also keeps the sessions it saved, so a conversation paused here stays resumable here
    while Redis is down or after Redis restarted empty; :meth:`forget_local` drops one that another
    worker took over.
    """

    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self._local: dict[str, Session] = {}

    async def load(self, conversation_id: str) -> Session | None:
        try:
            raw = await self._shared.get(_SESSION + conversation_id)
        except SharedUnavailable as exc:
            _log.warning("%s; using this worker's copy", exc)
            return self._local.get(conversation_id)
        if raw is None:
            return self._local.get(conversation_id)
        session = session_from_data(json.loads(raw))
        self._local[conversation_id] = session
        return session

    async def save(self, conversation_id: str, session: Session) -> None:
        self._local[conversation_id] = session
        try:
            await self._shared.put(_SESSION + conversation_id, json.dumps(session_to_data(session)))
        except SharedUnavailable as exc:
            _log.warning("%s; the conversation can be resumed on this worker only", exc)

    async def delete(self, conversation_id: str) -> None:
        self._local.pop(conversation_id, None)
        try:
            await self._shared.delete(_SESSION + conversation_id)
        except SharedUnavailable as exc:
            _log.warning("%s; it expires by itself", exc)

    def held(self) -> tuple[str, ...]:
        return tuple(self._local)

    def forget_local(self, conversation_id: str) -> None:
        self._local.pop(conversation_id, None)

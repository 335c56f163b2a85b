"""``loopback_only()``: fail a test that reaches any host but this machine.

The real SDK has code paths that reach the internet on their own (a web search engine's DNS lookup,
``tldextract`` fetching its suffix list); a test that means to be offline must prove it is. The guard
patches the socket-level entry points every client goes through (``socket.socket.connect`` and
``connect_ex``, which asyncio, httpx and urllib3 all end in, plus ``getaddrinfo`` and
``create_connection``), lets loopback and Unix sockets through, and refuses everything else with
:class:`NetworkBlocked`. Each refusal is also recorded, because the code under test may swallow the
error: leaving the context raises ``AssertionError`` listing every attempt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

__all__ = ["HttpSend", "HttpSends", "NetworkBlocked", "NetworkGuard", "loopback_only", "record_http_sends"]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NetworkBlocked(OSError):
    """A connection or name lookup to a host that is not loopback, refused by :func:`loopback_only`."""


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    """What :func:`loopback_only` saw: every refused ``(call, target)``."""

    def __init__(self) -> None:
        self.blocked: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def refuse(self, call: str, target: object) -> NetworkBlocked:
        with self._lock:
            self.blocked.append((call, repr(target)))
        return NetworkBlocked(f"deepsearch_nb.testing.loopback_only: {call} to {target!r} is not loopback")

    def check_address(self, call: str, family: int, address: Any) -> None:
        if family == getattr(socket, "AF_UNIX", None):
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not _is_loopback(host):
            raise self.refuse(call, address)


@contextmanager
def loopback_only() -> Iterator[NetworkGuard]:
    """Refuse (and record) every connect and DNS lookup that is not loopback, for the ``with`` block.

    Raises ``AssertionError`` on leaving if anything was refused, even if the caller caught the error.
    """
    guard = NetworkGuard()
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo
    original_create_connection = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        guard.check_address("connect", self.family, address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard.check_address("connect_ex", self.family, address)
        return original_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host):
            raise guard.refuse("getaddrinfo", host)
        return original_getaddrinfo(host, *args, **kwargs)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        host = address[0] if isinstance(address, tuple) and address else address
        if not _is_loopback(host):
            raise guard.refuse("create_connection", address)
        return original_create_connection(address, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
    socket.create_connection = create_connection
    try:
        yield guard
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo
        socket.create_connection = original_create_connection
    if guard.blocked:
        attempts = ", ".join(f"{call} {target}" for call, target in guard.blocked)
        raise AssertionError(f"the code under test tried to reach hosts other than loopback: {attempts}")


class HttpSend(NamedTuple):
    """One request as it left the process: when, what, and from where (for a failure message)."""

    at: float  # time.monotonic()
    method: str
    url: str
    thread: str
    task: str  # the asyncio task's name, "" outside a task
    probe: str  # what the recorder's probe said at that moment ("" without one)

    def describe(self, since: float) -> str:
        where = f"thread {self.thread!r}" + (f", task {self.task!r}" if self.task else "")
        said = f", probe: {self.probe}" if self.probe else ""
        return f"{self.method} {self.url} at +{(self.at - since) * 1000:.2f} ms ({where}{said})"


class HttpSends:
    """When each HTTP request left this process, on ``time.monotonic()`` (see :func:`record_http_sends`)."""

    def __init__(self, probe: Callable[[], str] | None = None) -> None:
        self.sent: list[HttpSend] = []
        self._probe = probe
        self._lock = threading.Lock()

    def add(self, method: str, url: str) -> None:
        at = time.monotonic()
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running loop in this thread (a sync client)
            task = None
        probe = self._probe() if self._probe is not None else ""
        send = HttpSend(at, method, url, threading.current_thread().name, task.get_name() if task else "", probe)
        with self._lock:
            self.sent.append(send)

    def after(self, moment: float, *, path: str = "/chat/completions") -> list[str]:
        """The URLs of requests to ``path`` sent later than ``moment``."""
        return [send.url for send in self.sends_after(moment, path=path)]

    def sends_after(self, moment: float, *, path: str = "/chat/completions") -> list[HttpSend]:
        """The requests to ``path`` sent later than ``moment``, with where each came from."""
        with self._lock:
            return [send for send in self.sent if send.at > moment and path in send.url]


@contextmanager
def record_http_sends(probe: Callable[[], str] | None = None) -> Iterator[HttpSends]:
    """Record every request as it reaches httpcore's connection pool, i.e. below every httpx hook and
    transport wrapper: the moment it goes to the connection.

    A server's receive time is later than the moment a request was sent, by the transit and by however long
    the server's thread waits to run: comparing it with a cancel is a race. This is the client's own moment.
    ``probe`` is called at each send, in the sender's thread and context, and what it returns is kept with
    the send: e.g. the state of the cancel event the sender sees, so a failure says why a check let it pass.
    """
    import httpcore

    sends = HttpSends(probe)
    original_async = httpcore.AsyncConnectionPool.handle_async_request
    original_sync = httpcore.ConnectionPool.handle_request

    def described(request: httpcore.Request) -> tuple[str, str]:
        method = request.method.decode() if isinstance(request.method, bytes) else str(request.method)
        return method, bytes(request.url).decode("ascii", "replace")

    async def handle_async(self: httpcore.AsyncConnectionPool, request: httpcore.Request) -> httpcore.Response:
        sends.add(*described(request))
        return await original_async(self, request)

    def handle_sync(self: httpcore.ConnectionPool, request: httpcore.Request) -> httpcore.Response:
        sends.add(*described(request))
        return original_sync(self, request)

    httpcore.AsyncConnectionPool.handle_async_request = handle_async  # type: ignore[method-assign]
    httpcore.ConnectionPool.handle_request = handle_sync  # type: ignore[method-assign]
    try:
        yield sends
    finally:
        httpcore.AsyncConnectionPool.handle_async_request = original_async  # type: ignore[method-assign]
        httpcore.ConnectionPool.handle_request = original_sync  # type: ignore[method-assign]

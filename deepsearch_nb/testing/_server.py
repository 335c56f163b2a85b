"""An ASGI app served for real by uvicorn on 127.0.0.1, on a free port, in a thread (needs the server extra).

Tests of a client (``RemoteAgent``, the secrets suite) need a real server speaking real HTTP/SSE, started
and stopped within the test process; this is that, once.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

__all__ = ["LoopbackServer"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopbackServer:
    """``with LoopbackServer(app) as server: ... server.url``. ``config`` goes to ``uvicorn.Config``
    (e.g. ``log_level="warning"``, or ``log_config=None`` to leave uvicorn's loggers to propagate)."""

    def __init__(self, app: Any, *, start_timeout: float = 10.0, **config: Any) -> None:
        import uvicorn

        self.app = app
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start_timeout = start_timeout
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, **config))
        self.thread = threading.Thread(target=self.server.run, name="deepsearch-nb loopback server", daemon=True)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        ready = threading.Event()
        waited = 0.0
        while not self.server.started:
            if waited >= self.start_timeout or not self.thread.is_alive():
                self.__exit__()
                raise RuntimeError(f"uvicorn did not start on {self.url} within {self.start_timeout:g} s")
            ready.wait(0.025)
            waited += 0.025
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

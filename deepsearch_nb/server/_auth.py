"""The bearer token: every request carries ``Authorization: Bearer TOKEN`` or gets a readable 401.

A plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which buffers and breaks the stream's
disconnect detection); the comparison is constant-time. A server on a non-loopback address without a
token is refused at start (:func:`check_exposure`): the run API spends LLM money and reads the corpus.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any

from .._errors import ConfigurationError

__all__ = ["BearerAuth", "check_exposure", "is_loopback"]

Scope = dict[str, Any]


class BearerAuth:
    def __init__(self, app: Any, *, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"authorization")
        if given is not None and hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        detail = (
            "This DeepSearch server needs a bearer token: send 'Authorization: Bearer TOKEN' "
            "(RemoteAgent(url, token=...), or --token-env VAR)."
            if given is None
            else "The bearer token is not the one this server was started with; check the token you were given."
        )
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to serve other machines without a token, saying why and how."""
    if not token and not is_loopback(host):
        raise ConfigurationError(
            f"Refusing to listen on {host} without a token: anyone who can reach it could run research (and spend "
            "the LLM key). Pass --token TOKEN or set DEEPSEARCH_NB_TOKEN, or listen on 127.0.0.1."
        )

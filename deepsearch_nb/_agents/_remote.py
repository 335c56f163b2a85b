"""An agent that is a DeepSearch server: the run API over HTTP with an SSE response (``remote`` extra).

The server keeps a round's stream open after an interrupt and resumes the run when the next request
for the same conversation arrives; only then does the old stream end. So a paused round's response is
kept here (not closed) until the next round's request has been answered, or the session is cleaned up.
Cancel is a request with ``interrupt_feedback="cancel"`` (JSON answer). HTTP errors become
:class:`RemoteAgentError` with the server's ``detail`` (401: the token); a server that cannot be reached
and a stream cut mid-run become :class:`AgentError` saying so, so the run ends FAILED with that reason and
keeps every chunk it received.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from .._errors import AgentError, ConfigurationError, RemoteAgentError
from .._secrets import redact, secret_values
from ._base import AgentSpec, ChunkLike

if TYPE_CHECKING:
    import httpx

__all__ = ["RemoteAgent", "sse_data"]

RUN_PATH = "/api/v1/agent/deepsearch/run/"


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event (comments such as pings and other fields skipped)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield "\n".join(data)


class RemoteAgent:
    """Research through a DeepSearch server at ``base_url`` (http://127.0.0.1:8000, ...).

    ``request`` holds request fields sent with every run (llm_config, search configs, ...); an
    ``agent_config`` passed to ``run`` is merged over it. ``token``: the server's bearer token, sent as
    ``Authorization: Bearer ...`` with every request (a secret of this agent: never in a spec, a report or
    an error). A template stored on the server is chosen with ``request={"template_id": N}``; a template
    given to ``research(template=...)`` is sent as its Markdown in ``report_template`` (a field this
    package's server reads; the seed server ignores it). ``token_env`` names the environment variable the
    token was read from, so a report can rebuild the agent. Pass ``client`` to share an
    ``httpx.AsyncClient`` (or to use ``httpx.MockTransport`` in tests).
    """

    kind = "remote"

    def __init__(
        self,
        base_url: str,
        *,
        space_id: str = "default",
        request: Mapping[str, Any] | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 600.0,
        token: str | None = None,
        token_env: str | None = None,
    ) -> None:
        try:
            import httpx
        except ImportError:
            raise ConfigurationError("RemoteAgent needs httpx: pip install 'deepsearch-nb[remote]'.") from None
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url must start with http:// or https://, not {base_url!r}.")
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise ConfigurationError("token must be a non-empty string (the server's bearer token), or None.")
        self.url = base_url.rstrip("/") + RUN_PATH
        self.token_env = token_env
        self._token = token
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.space_id = space_id
        self.request = dict(request or {})
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=10.0))
        self._paused: dict[str, httpx.Response] = {}

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[ChunkLike]:
        body = {
            **self.request,
            **dict(agent_config or {}),
            "space_id": self.space_id,
            "conversation_id": conversation_id,
            "message": message,
            "interrupt_feedback": interrupt_feedback,
        }
        stored = body.get("template_id")
        if report_template and not (isinstance(stored, int) and stored > 0):
            body["report_template"] = report_template  # the content; a stored one goes by template_id instead
        import httpx

        previous = self._paused.pop(conversation_id, None)
        headers = {"Accept": "text/event-stream", **self._headers}
        request = self._client.build_request("POST", self.url, json=body, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            if previous is not None:
                await previous.aclose()
            raise self._unreachable(exc) from None
        keep_open = False
        received = 0
        try:
            if previous is not None:  # the server has resumed the run: its old stream ends now
                await previous.aclose()
            if response.status_code >= 400:
                raise RemoteAgentError(response.status_code, _detail(await response.aread()))
            try:
                async for data in sse_data(response.aiter_lines()):
                    received += 1
                    yield data
                    if _is_interrupt(data):
                        keep_open = True  # closing it could end the paused session on the server
                        self._paused[conversation_id] = response
                        return
            except httpx.TransportError as exc:
                raise AgentError(
                    f"The DeepSearch server at {self.base_url} cut the stream mid-run after {received} chunks "
                    f"({type(exc).__name__}); what was received is kept. Is the server still running?"
                ) from None
        finally:
            if not keep_open:
                await response.aclose()

    @property
    def base_url(self) -> str:
        return self.url[: -len(RUN_PATH)] if self.url.endswith(RUN_PATH) else self.url

    def _unreachable(self, exc: Exception) -> AgentError:
        return AgentError(
            f"Cannot reach the DeepSearch server at {self.base_url} ({type(exc).__name__}): is it running "
            "(deepsearch-nb serve) and is the URL right?"
        )

    def secret_values(self) -> list[str]:
        """Every key this agent sends: in ``request`` (``llm_config.api_key``, ...), in the client's headers
        (``Authorization: Bearer T``: the value and ``T``; the ``token=`` sent with every request too) and in
        the server URL (a password, ``?token=``)."""
        headers = {**dict(self._client.headers.items()), **self._headers}
        return secret_values({"request": self.request, "headers": headers, "url": self.url})

    def spec(self) -> AgentSpec:
        """Kind and config to rebuild this agent: the server's URL, the space and the request fields
        (secrets as ``"***"``)."""
        config = redact({"url": self.base_url, "space_id": self.space_id, "request": self.request})
        if self.token_env:  # the variable's name, never the token
            config["token_env"] = self.token_env
        return {"kind": "remote", "config": config}

    async def cancel_tasks(self, conversation_id: str) -> None:
        """Ask the server to cancel (its task, HITL state and checkpointer)."""
        body = {
            "space_id": self.space_id,
            "conversation_id": conversation_id,
            "message": "",
            "interrupt_feedback": "cancel",
        }
        import httpx

        try:
            response = await self._client.post(self.url, json=body, headers=self._headers)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.status_code >= 400:
            raise RemoteAgentError(response.status_code, _detail(response.content))

    async def cleanup_session(self, conversation_id: str) -> None:
        paused = self._paused.pop(conversation_id, None)
        if paused is not None:
            await paused.aclose()

    async def aclose(self) -> None:
        for conversation_id in list(self._paused):
            await self.cleanup_session(conversation_id)
        await self._client.aclose()


def _is_interrupt(data: str) -> bool:
    if '"waiting_user_input"' not in data:  # cheap test first: most chunks are tokens
        return False
    with contextlib.suppress(ValueError):
        parsed = json.loads(data)
        return isinstance(parsed, dict) and parsed.get("event") == "waiting_user_input"
    return False


def _detail(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text.strip()[:500] or "(no detail)"
    detail = parsed.get("detail", parsed) if isinstance(parsed, dict) else parsed
    if isinstance(detail, list):  # FastAPI's 422: a list of {loc, msg}
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail if isinstance(d, dict)
        )
    return str(detail)

"""``StubLLM``: an OpenAI-compatible chat-completions server on 127.0.0.1, for driving the real SDK offline.

The openJiuwen SDK 0.1.11 makes about thirty streamed ``POST /v1/chat/completions`` per research and
checks what comes back (intent, outline and plan are tool calls; the evidence, sub-outline and section
steps parse JSON or Markdown). The stub recognises each request by the tool it offers or by its system
prompt (:mod:`._llm_replies`) and answers deterministically, with text taken from the request itself
(the documents the SDK hands it), so that the real SDK writes a real report with citations.

It runs a stdlib ``ThreadingHTTPServer`` in a daemon thread: no dependency, and it keeps serving while
the test's event loop is busy or blocked. Every request is recorded (:class:`LlmRequest`) with its
``time.monotonic()`` start, so a test can prove that no request started after a cancel. ``token_delay``
spaces the streamed frames (so a cancel lands mid-stream); ``hold`` makes every request wait until the
test releases it (an LLM that never answers).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from ._llm_replies import Reply, classify, reply_for

__all__ = ["LlmRequest", "StubLLM"]


@dataclass(frozen=True)
class LlmRequest:
    """One request the stub received: when it started, what kind it was, and its JSON body."""

    n: int
    started: float  # time.monotonic() when the request line arrived
    path: str
    kind: str
    body: dict[str, Any] = field(repr=False)
    headers: dict[str, str] = field(repr=False)  # names lower-cased

    @property
    def tools(self) -> list[str]:
        return [t.get("function", {}).get("name", "") for t in self.body.get("tools") or []]

    @property
    def text(self) -> str:
        """Every message's text, joined (to look for a template, an answer, a comment)."""
        return "\n".join(str(m.get("content") or "") for m in self.body.get("messages") or [])


class StubLLM:
    """A deterministic OpenAI-compatible LLM on ``127.0.0.1:<free port>``; use as a (async) context manager.

    ``language``: what the intent step reports (the report's language). ``clarify``: whether the intent
    step asks for clarification. ``token_delay``: seconds between streamed frames. ``model``: the model
    name it expects (a request for another model gets HTTP 404, as a real endpoint would). ``invent``: a
    claim the local agent's section writer adds to every section, citing evidence that does not say it.

    A streamed request that asks for ``stream_options.include_usage`` gets a last frame with its token
    counts; :attr:`usage` keeps, per request number, exactly the ``(prompt_tokens, completion_tokens)``
    sent, so a test can compare what a run recorded with what the endpoint reported.
    """

    def __init__(
        self,
        *,
        language: str = "en-US",
        clarify: bool = True,
        token_delay: float = 0.0,
        model: str = "stub-model",
        hold: bool = False,
        invent: str = "",
    ) -> None:
        self.invent = invent
        self.usage: dict[int, tuple[int, int]] = {}
        self.language = language
        self.clarify = clarify
        self.token_delay = token_delay
        self.model = model
        self.requests: list[LlmRequest] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        if not hold:
            self._released.set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> StubLLM:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="deepsearch-nb stub LLM", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        self._released.set()
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> StubLLM:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def release(self) -> None:
        """Let held requests (``hold=True``) be answered."""
        self._released.set()

    # --- what tests read ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stub LLM is not running: use it as a context manager or call start()")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``, what ``OpenJiuwenAgent(base_url=...)`` takes."""
        return f"http://127.0.0.1:{self.port}/v1"

    def of_kind(self, kind: str) -> list[LlmRequest]:
        with self._lock:
            return [r for r in self.requests if r.kind == kind]

    def started_after(self, moment: float) -> list[LlmRequest]:
        """Requests whose start (``time.monotonic()``) is later than ``moment``."""
        with self._lock:
            return [r for r in self.requests if r.started > moment]

    def kinds(self) -> list[str]:
        with self._lock:
            return [r.kind for r in self.requests]

    # --- serving -----------------------------------------------------------------------------------

    def _record(self, path: str, body: dict[str, Any], headers: dict[str, str], started: float) -> LlmRequest:
        with self._lock:
            request = LlmRequest(len(self.requests) + 1, started, path, classify(body), body, headers)
            self.requests.append(request)
        return request

    def _frames(self, request: LlmRequest, reply: Reply) -> Iterator[bytes]:
        """The SSE frames of a streamed answer: role, content or tool-call deltas, finish, usage, [DONE]."""
        base = {"id": f"chatcmpl-stub-{request.n}", "object": "chat.completion.chunk", "model": self.model}
        created = {"created": 1_700_000_000 + request.n}

        def frame(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return _sse({**base, **created, "choices": [choice]})

        yield frame({"role": "assistant", "content": ""})
        if reply.tool is not None:
            name, arguments = reply.tool
            text = json.dumps(arguments, ensure_ascii=False)
            call = {"index": 0, "id": f"call_{request.n}", "type": "function", "function": {"name": name}}
            yield frame({"tool_calls": [{**call, "function": {"name": name, "arguments": ""}}]})
            for piece in _pieces(text, 400):
                yield frame({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            yield frame({}, "tool_calls")
        else:
            for piece in _pieces(reply.text, 24):
                yield frame({"content": piece})
            yield frame({}, "stop")
        if (request.body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": len(request.text) // 4, "completion_tokens": len(reply.text) // 4 + 1}
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            with self._lock:
                self.usage[request.n] = (usage["prompt_tokens"], usage["completion_tokens"])
            yield _sse({**base, **created, "choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"

    def _whole(self, request: LlmRequest, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        finish = "stop"
        if reply.tool is not None:
            name, arguments = reply.tool
            message["tool_calls"] = [
                {
                    "id": f"call_{request.n}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)},
                }
            ]
            finish = "tool_calls"
        return {
            "id": f"chatcmpl-stub-{request.n}",
            "object": "chat.completion",
            "created": 1_700_000_000 + request.n,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a cancelled request) is normal; anything else is printed as usual."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _handler_for(stub: StubLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the stub's access log is its request list."""

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [{"id": stub.model, "object": "model"}]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            started = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._json(400, {"error": {"message": "the body is not JSON"}})
                return
            request = stub._record(self.path, body, {k.lower(): v for k, v in self.headers.items()}, started)
            stub._released.wait()
            if body.get("model") != stub.model:
                self._json(404, {"error": {"message": f"The model {body.get('model')!r} does not exist."}})
                return
            try:
                reply = reply_for(request.kind, body, language=stub.language, clarify=stub.clarify, invent=stub.invent)
            except Exception as exc:  # a stub bug: say so, as a real endpoint's 500 would
                self._json(500, {"error": {"message": f"stub LLM failed on a {request.kind!r} request: {exc!r}"}})
                return
            if not body.get("stream"):
                self._json(200, stub._whole(request, reply))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for data in stub._frames(request, reply):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                    if stub.token_delay:
                        time.sleep(stub.token_delay)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client went away (a cancel closes its stream)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler

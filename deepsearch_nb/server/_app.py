"""The run API app: ``POST /api/v1/agent/deepsearch/run/``, the template routes (:mod:`._template_routes`)
and ``GET /health``, as the seed serves them.

The response is an SSE stream of chunk JSON (``data:`` frames, no event names); a round that stops at
``waiting_user_input`` keeps its stream open until the next request for the same
``space_id:conversation_id`` resumes it, on this worker or another one (:mod:`._rounds`), or a cancel ends it
with the cancel chunk; a request with ``interrupt_feedback="cancel"`` answers JSON ``{"status",
"space_id", "conversation_id"}``. Bad configuration is refused before streaming with ``{"detail": ...}``
(400; 404 for a report template), schema errors with 422 (never echoing the body, which may carry
``llm_config.api_key``), anything else with 500 and a message. With a token, every request needs
``Authorization: Bearer TOKEN`` (401 otherwise).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from ..agents import Agent
from ..runtime import RunManager
from ._auth import BearerAuth
from ._request import DeepSearchRequest, check_configuration
from ._rounds import Worker
from ._shared import Shared
from ._template_routes import template_for, template_router
from ._templates import TemplateStore

__all__ = ["RUN_PATH", "AgentFactory", "create_app", "default_worker_id"]

RUN_PATH = "/api/v1/agent/deepsearch/run/"

AgentFactory = Callable[[DeepSearchRequest], Agent]

_log = logging.getLogger("deepsearch_nb.server")


def default_worker_id() -> str:
    """``host:pid``: what logs and ``/health`` call this worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create_app(
    agent_factory: AgentFactory | None = None,
    *,
    manager: RunManager | None = None,
    shared: Shared | None = None,
    token: str | None = None,
    worker_id: str | None = None,
    templates: TemplateStore | str | None = None,
) -> FastAPI:
    """An app serving the run API.

    ``agent_factory`` picks the agent per request (default: the offline local agent). ``shared``: the
    Redis-backed state of a team server (connected when the app starts, which fails with a clear message
    when Redis cannot be reached); without it the app serves one process. ``token``: the bearer token every
    request must carry. ``manager``: a run manager to use (with ``shared``, build it with
    ``cancel_bus=shared.cancel_bus``). ``templates``: the report templates' store or its SQLAlchemy URL
    (default: :func:`default_template_db`, a SQLite file created on first use).
    """
    store = templates if isinstance(templates, TemplateStore) else TemplateStore(templates)
    if agent_factory is None:
        from .._agents._local import LocalResearchAgent

        local = LocalResearchAgent(sessions=None if shared is None else shared.sessions)

        def agent_factory(request: DeepSearchRequest) -> Agent:
            return local

    worker_id = worker_id or (shared.worker if shared is not None else default_worker_id())
    if manager is None:
        manager = (
            RunManager() if shared is None else RunManager(cancel_bus=shared.cancel_bus, hitl_capacity=shared.capacity)
        )
    runs = manager
    worker = Worker(runs, agent_factory, shared, worker_id)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if shared is not None:
            await shared.start()
            _log.info("worker %s: connected to Redis at %s", worker_id, shared.status()["url"])
        try:
            yield
        finally:
            await _shutdown(worker)
            if shared is not None:
                await shared.aclose()
            store.close()

    app = FastAPI(title="deepsearch_nb run API", lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
    if token:
        app.add_middleware(BearerAuth, token=token)

    @app.post(RUN_PATH, response_model=None)
    async def run_endpoint(request: DeepSearchRequest) -> JSONResponse | EventSourceResponse:
        if request.interrupt_feedback == "cancel":
            status = await worker.cancel(request)
            return JSONResponse(
                {"status": status, "space_id": request.space_id, "conversation_id": request.conversation_id}
            )
        check_configuration(request)
        template = await template_for(store, request) if not request.interrupt_feedback else ""
        return EventSourceResponse(await worker.serve(request, template))

    async def health() -> dict[str, Any]:
        stats = runs.stats()
        return {
            "status": "ok",
            "worker": worker_id,
            "redis": None if shared is None else shared.status(),
            "live_runs": stats.live_runs,
            "paused_sessions": stats.paused_sessions,
            "open_streams": worker.open_streams,
        }

    app.include_router(template_router(store))
    app.add_api_route("/health", health, methods=["GET"])
    app.add_api_route("/api/health", health, methods=["GET"])  # the seed's path
    app.state.manager = runs
    app.state.worker = worker
    app.state.templates = store
    return app


async def _shutdown(worker: Worker) -> None:
    """Stop this worker's runs. Paused ones with a shared record are let go, not cleaned up: another worker
    can still take their answers (their sessions are in Redis)."""
    if worker.shared is not None:
        for key in list(worker.conversations):
            worker.conversations[key].agent.handed_to = "(any: this worker stopped)"
    try:
        await worker.runs.aclose(timeout=10)
    except TimeoutError:
        _log.warning("worker %s: some runs were still winding down at shutdown", worker.id)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with what is wrong and where, never the values sent (a body may carry ``llm_config.api_key``)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in errors
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """500 with the kind of failure; the text is not echoed (it may hold a request's key), it is logged."""
    _log.error("request to %s failed: %s", request.url.path, type(exc).__name__, exc_info=exc)
    return JSONResponse({"detail": f"The server failed: {type(exc).__name__}; see its log."}, status_code=500)

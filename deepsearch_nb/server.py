"""The DeepSearch run API over HTTP/SSE, served by a :class:`RunManager` (needs the ``server`` extra).

``POST /api/v1/agent/deepsearch/run/`` runs, resumes or cancels, as the openJiuwen DeepSearch server
does: the response is an SSE stream of chunk JSON (``data:`` frames, no event names); a round that stops
at ``waiting_user_input`` keeps its stream open until the next request for the same
``space_id:conversation_id`` resumes it (or a cancel ends it with the cancel chunk); a request with
``interrupt_feedback="cancel"`` answers JSON ``{"status", "space_id", "conversation_id"}``. Bad
configuration is refused before streaming with ``{"detail": ...}`` (400) and schema errors with 422.

Usage: ``uvicorn --factory 'deepsearch_nb.server:create_app'`` serves the offline local agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse

from ._errors import DeepSearchError, InvalidInputError
from ._protocol import CONVERSATION_ID_PATTERN, HitlAnswer, InterruptFeedback
from .agents import Agent
from .runtime import ChunkReceived, Run, RunEvent, RunManager, RunState, StateChanged

__all__ = ["RUN_PATH", "DeepSearchRequest", "create_app"]

RUN_PATH = "/api/v1/agent/deepsearch/run/"

AgentFactory = Callable[["DeepSearchRequest"], Agent]


class DeepSearchRequest(BaseModel):
    """The run request (the DeepSearch server's ``DeepSearchRequest``, the fields this server uses)."""

    space_id: str = Field(min_length=1)
    conversation_id: str = Field(pattern=CONVERSATION_ID_PATTERN)
    message: str
    interrupt_feedback: Literal["", "accepted", "revise_comment", "revise_outline", "cancel"] = ""
    workflow_human_in_the_loop: bool = True
    outline_interaction_enabled: bool = True
    outline_interaction_max_rounds: int = Field(default=3, ge=1, le=100)
    outliner_max_section_num: int = Field(default=5, ge=1, le=15)
    info_collector_search_method: Literal["web", "local", "all"] = "local"
    web_search_config: dict[str, Any] | None = None
    local_search_config: dict[str, Any] | None = None
    llm_config: dict[str, Any] = Field(default_factory=dict)
    search_mode: Literal["research", "search"] = "research"

    def agent_config(self) -> dict[str, Any]:
        return self.model_dump(exclude={"space_id", "conversation_id", "message", "interrupt_feedback"})


def _check_configuration(request: DeepSearchRequest) -> None:
    """Refuse what cannot work, before any stream starts (the server's 400 errors)."""
    method = request.info_collector_search_method
    if method in ("web", "all") and not request.web_search_config:
        raise HTTPException(
            400, f"info_collector_search_method={method!r} needs web_search_config (or use 'local' search)."
        )
    if request.search_mode != "research":
        raise HTTPException(400, "Only search_mode='research' streams the research protocol; use 'research'.")


def create_app(agent_factory: AgentFactory | None = None, *, manager: RunManager | None = None) -> FastAPI:
    """An app serving the run API. ``agent_factory`` picks the agent per request (default: local agent)."""
    app = FastAPI(title="deepsearch_nb run API")
    app.add_exception_handler(RequestValidationError, _validation_error)
    runs = manager or RunManager()
    resumed: dict[str, asyncio.Event] = {}  # key -> set when the next request takes over a paused stream
    if agent_factory is None:
        from ._agents._local import LocalResearchAgent

        local = LocalResearchAgent()

        def agent_factory(request: DeepSearchRequest) -> Agent:
            return local

    factory = agent_factory

    @app.post(RUN_PATH, response_model=None)
    async def run_endpoint(request: DeepSearchRequest) -> JSONResponse | EventSourceResponse:
        key = f"{request.space_id}:{request.conversation_id}"
        if request.interrupt_feedback == "cancel":
            outcome = await runs.acancel(request.conversation_id, space_id=request.space_id)
            return JSONResponse(
                {"status": outcome.value, "space_id": request.space_id, "conversation_id": request.conversation_id}
            )
        _check_configuration(request)
        run = runs.get(request.conversation_id, space_id=request.space_id)
        try:
            if run is not None and run.state is RunState.WAITING_USER_INPUT:
                events = run.events()
                runs.submit(
                    request.conversation_id,
                    HitlAnswer(
                        feedback=InterruptFeedback(request.interrupt_feedback or "accepted"), message=request.message
                    ),
                    space_id=request.space_id,
                )
                if key in resumed:
                    resumed.pop(key).set()  # the previous round's stream may close now
            elif request.interrupt_feedback:
                raise HTTPException(
                    409,
                    f"No run of conversation {request.conversation_id!r} in space {request.space_id!r} is waiting "
                    "for an answer here; start a new research with an empty interrupt_feedback.",
                )
            else:
                run = runs.start(
                    factory(request),
                    request.message,
                    conversation_id=request.conversation_id,
                    space_id=request.space_id,
                    agent_config=request.agent_config(),
                )
                events = run.events()
                if run.state.terminal:  # a cancelled key answers with its cancel chunk
                    return EventSourceResponse(_replay(run))
        except DeepSearchError as exc:
            raise HTTPException(400 if isinstance(exc, InvalidInputError) else 409, str(exc)) from None
        return EventSourceResponse(_stream(run, events, key, resumed))

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        stats = runs.stats()
        return {
            "status": "ok",
            "live_runs": stats.live_runs,
            "paused_sessions": stats.paused_sessions,
            "open_streams": len(resumed),
        }

    app.state.manager = runs
    return app


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with what is wrong and where, never the values sent (a body may carry ``llm_config.api_key``)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in errors
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def _replay(run: Run) -> AsyncIterator[dict[str, str]]:
    for chunk in run.chunks:
        yield {"data": chunk.to_wire()}


async def _stream(
    run: Run, events: AsyncGenerator[RunEvent, None], key: str, resumed_events: dict[str, asyncio.Event]
) -> AsyncIterator[dict[str, str]]:
    """One round's chunks; at a question, hold the stream open until a new request resumes the run."""
    resumed = resumed_events.setdefault(key, asyncio.Event())
    live = [True]  # False once this round paused: then the stream is only held open
    try:
        async for item in _round(run, events, resumed, live):
            yield item
    except (asyncio.CancelledError, GeneratorExit):
        # The client went away mid-round: stop the run (a real LLM would go on billing). A paused run
        # stays resumable, as the router keeps HITL sessions; closing a held stream is how a client
        # moves on to the next round.
        if live[0] and run.state is RunState.RUNNING:
            run.cancel("the client disconnected")
        raise
    finally:
        if resumed_events.get(key) is resumed:  # only our own: a resumed round registered a new one
            del resumed_events[key]


async def _round(
    run: Run, events: AsyncGenerator[RunEvent, None], resumed: asyncio.Event, live: list[bool]
) -> AsyncIterator[dict[str, str]]:
    paused = False
    try:
        async for event in events:
            if isinstance(event, ChunkReceived):
                yield {"data": event.chunk.to_wire()}
            elif isinstance(event, StateChanged) and event.state is RunState.WAITING_USER_INPUT:
                paused = True
                live[0] = False
                break
    finally:
        await events.aclose()  # unsubscribe now, not when the generator is collected
    if not paused:
        return
    settle = asyncio.ensure_future(run.wait())
    resume = asyncio.ensure_future(resumed.wait())
    try:
        await asyncio.wait({settle, resume}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        settle.cancel()
        resume.cancel()
    if run.state is RunState.CANCELLED and run.chunks and run.chunks[-1].is_cancel:
        yield {"data": run.chunks[-1].to_wire()}

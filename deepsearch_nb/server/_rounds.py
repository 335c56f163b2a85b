"""One worker's rounds: start, answer, resume a conversation paused elsewhere, hand one over, stream.

The rules, with a shared Redis (:class:`Shared`) or without one (a single process):

* a new question starts a run here;
* an answer for a run paused *here* resumes it here, and the stream held open for its question closes;
* an answer for a run paused on *another* worker (its record is in Redis) starts a run here whose first
  round is the resume (:class:`ServedAgent`), after a "resume requested" message that makes the holder
  close its held stream and let its run go without cleaning up the session this worker now uses;
* a local paused run whose record says another worker or a later pause owns the conversation is stale:
  it is let go the same way, and the request is served from the record;
* the question of a pausing round is sent to the client only after the record is in Redis, so whoever
  reads the question can answer it on any worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

from .._agents._base import Agent
from .._errors import DeepSearchError, InvalidInputError, RunStateError
from .._protocol import HitlAnswer, ReportTemplate
from ..runtime import ChunkReceived, Run, RunEvent, RunManager, RunState, StateChanged
from ._records import ConversationRecord, ServedAgent
from ._request import DeepSearchRequest, shareable_config
from ._shared import Shared, SharedUnavailable

__all__ = ["Conversation", "Frame", "Worker"]

Frame = dict[str, str]
AgentFactory = Callable[[DeepSearchRequest], Agent]
_log = logging.getLogger("deepsearch_nb.server")


@dataclass(slots=True)
class Conversation:
    """What this worker knows of a live run beyond the run itself: enough to write its paused record."""

    run: Run
    agent: ServedAgent
    question: str
    agent_config: dict[str, Any]  # without secrets
    report_template: str = ""
    exchanges: list[dict[str, str]] = field(default_factory=list)
    epoch: int = 0  # the epoch of this conversation's latest pause (here or where it came from)
    release: asyncio.Event | None = None  # set to close the stream held open at the question
    watched: bool = False  # its end is being watched (once per run)

    @property
    def round(self) -> int:
        return len(self.exchanges) + 1


class Worker:
    """The run endpoint's logic for one process (see the module docstring)."""

    def __init__(self, runs: RunManager, factory: AgentFactory, shared: Shared | None, worker_id: str) -> None:
        self.runs = runs
        self.factory = factory
        self.shared = shared
        self.id = worker_id
        self.conversations: dict[str, Conversation] = {}
        self.open_streams = 0
        self._background: set[asyncio.Future[None]] = set()
        if shared is not None:
            shared.add_resume_handler(self._on_resume_requested)

    # --- requests ------------------------------------------------------------------------------------

    async def cancel(self, request: DeepSearchRequest) -> str:
        outcome = await self.runs.acancel(request.conversation_id, space_id=request.space_id)
        if self.shared is not None:  # a cancelled conversation is resumable nowhere, even if its holder died
            await self.shared.drop_record(request.key)
        _log.info("worker %s: cancel of %s: %s", self.id, request.key, outcome.value)
        return outcome.value

    async def serve(self, request: DeepSearchRequest, template: ReportTemplate | str = "") -> AsyncIterator[Frame]:
        """The stream of the round this request starts; raises ``HTTPException`` before any stream.
        ``template`` is for a new question (an answer continues with the run's own)."""
        key = request.key
        run = self.runs.get(request.conversation_id, space_id=request.space_id)
        record = None
        if self.shared is not None and (run is None or run.state is RunState.WAITING_USER_INPUT):
            record = await self._record(key)
            conversation = self.conversations.get(key)
            if run is not None and record is not None and not self._current(conversation, record):
                self._hand_over(key, record.owner)  # the conversation moved on elsewhere: ours is stale
                with contextlib.suppress(TimeoutError):  # it ends at once (see _hand_over)
                    await run.wait(timeout=5)
                run = None
        try:
            if run is not None and run.state is RunState.WAITING_USER_INPUT:
                return await self._answer_here(request, run)
            if record is not None:
                return await self._resume_from(request, record)
            if request.interrupt_feedback:
                raise HTTPException(
                    409,
                    f"No run of conversation {request.conversation_id!r} in space {request.space_id!r} is waiting "
                    "for an answer; start a new research with an empty interrupt_feedback.",
                )
            return self._start(request, template)
        except DeepSearchError as exc:
            raise HTTPException(400 if isinstance(exc, InvalidInputError) else 409, str(exc)) from None

    def _start(self, request: DeepSearchRequest, template: ReportTemplate | str) -> AsyncIterator[Frame]:
        agent = ServedAgent(self.factory(request))
        config = request.agent_config()
        run = self.runs.start(
            agent,
            request.message,
            conversation_id=request.conversation_id,
            space_id=request.space_id,
            agent_config=config,
            report_template=template,
        )
        if run.state.terminal:  # a cancelled key answers with its cancel chunk
            return _replay(run)
        conversation = Conversation(run, agent, request.message, shareable_config(config), run.report_template)
        return self._track(request.key, conversation, run.events(), "a new question")

    async def _answer_here(self, request: DeepSearchRequest, run: Run) -> AsyncIterator[Frame]:
        key = request.key
        conversation = self.conversations.get(key)
        events = run.events()
        answer = request.answer()
        try:
            self.runs.submit(request.conversation_id, answer, space_id=request.space_id)
        except BaseException:
            await events.aclose()
            raise
        if conversation is None:  # a run this worker did not start (a manager shared with other code)
            return _only_stream(events)
        conversation.exchanges.append(_exchange(run, answer))
        self._release(conversation)
        if self.shared is not None:
            await self.shared.drop_record(key)  # running now: no other worker may take an answer for it
        return self._track(key, conversation, events, "the answer, on the worker that held it")

    async def _resume_from(self, request: DeepSearchRequest, record: ConversationRecord) -> AsyncIterator[Frame]:
        assert self.shared is not None
        answer = request.answer()
        pending = record.request()
        pending.check(answer)  # InvalidInputError -> 400, as on the worker holding the run
        config = dict(record.agent_config)
        if request.llm_config:  # keys are never in Redis: this request brings them again
            config["llm_config"] = request.agent_config()["llm_config"]
        agent = ServedAgent(self.factory(request), resume_with=answer)

        def start() -> Run:
            return self.runs.start(
                agent,
                record.question,
                conversation_id=request.conversation_id,
                space_id=request.space_id,
                agent_config=config,
                report_template=record.report_template,
            )

        run = start()  # a refusal (409) here leaves the record and its holder as they were
        if run.state.terminal:  # this worker remembered the key as cancelled, but it was paused again since
            run = start()
        # Only now: the holder closes its held stream and lets its run go; no other worker takes it.
        await self.shared.publish_resume(request.space_id, request.conversation_id, record.epoch)
        await self.shared.drop_record(record.key)
        exchanges = [*record.exchanges, {"stage": pending.stage.value, **_answer_fields(answer)}]
        conversation = Conversation(
            run, agent, record.question, record.agent_config, record.report_template, exchanges, record.epoch
        )
        return self._track(record.key, conversation, run.events(), f"the answer, resumed from worker {record.owner}")

    # --- handing over ----------------------------------------------------------------------------------

    async def _record(self, key: str) -> ConversationRecord | None:
        assert self.shared is not None
        try:
            return await self.shared.load_record(key)
        except SharedUnavailable as exc:
            _log.warning("worker %s: %s; serving %s from what this worker holds", self.id, exc, key)
            return None

    def _current(self, conversation: Conversation | None, record: ConversationRecord) -> bool:
        if conversation is None:  # a run this worker's endpoint did not start: it cannot be let go from here
            return True
        return record.owner == self.id and record.epoch == conversation.epoch

    def _on_resume_requested(self, space_id: str, conversation_id: str, epoch: int, worker: str) -> None:
        key = f"{space_id}:{conversation_id}"
        conversation = self.conversations.get(key)
        if (
            conversation is not None
            and conversation.epoch <= epoch
            and conversation.run.state is RunState.WAITING_USER_INPUT
        ):
            self._hand_over(key, worker)

    def _hand_over(self, key: str, to: str) -> None:
        """Let a paused run go: its stream closes, its session stays for the worker that took it over."""
        conversation = self.conversations.pop(key, None)
        if conversation is None:
            return
        run, agent = conversation.run, conversation.agent
        agent.handed_to = to
        if self.shared is not None:
            self.shared.sessions.forget_local(run.conversation_id)
        self._release(conversation)
        pending = run.pending
        if run.state is RunState.WAITING_USER_INPUT and pending is not None:
            # The run manager has no "release" call: an answer starts a round that the agent refuses at
            # once (HandedOver), so the run ends FAILED here without cleanup, and nothing is remembered.
            letting_go = HitlAnswer(feedback=pending.allowed_feedback[0])
            with contextlib.suppress(RunStateError):
                self.runs.submit(run.conversation_id, letting_go, space_id=run.space_id)
        _log.info("worker %s: %s handed over to worker %s", self.id, key, to)

    @staticmethod
    def _release(conversation: Conversation) -> None:
        if conversation.release is not None:
            conversation.release.set()
            conversation.release = None

    # --- streaming ----------------------------------------------------------------------------------------

    def _track(
        self, key: str, conversation: Conversation, events: AsyncGenerator[RunEvent, None], how: str
    ) -> AsyncIterator[Frame]:
        self.conversations[key] = conversation
        _log.info("worker %s: round %d of %s (%s)", self.id, conversation.round, key, how)
        if not conversation.watched:
            conversation.watched = True
            conversation.run.subscribe(lambda event: self._on_event(key, conversation, event))
        return self._stream(key, conversation, events)

    def _on_event(self, key: str, conversation: Conversation, event: RunEvent) -> None:
        if not (isinstance(event, StateChanged) and event.state.terminal):
            return
        if self.conversations.get(key) is conversation:
            del self.conversations[key]
        if conversation.agent.handed_to is None:
            _log.info("worker %s: %s ended %s", self.id, key, event.state.value)
            if self.shared is not None:  # bounded, and logged when it fails; kept until done
                task = asyncio.ensure_future(self.shared.drop_record(key))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def _stream(
        self, key: str, conversation: Conversation, events: AsyncGenerator[RunEvent, None]
    ) -> AsyncIterator[Frame]:
        run = conversation.run
        live = [True]  # False once this round paused: then the stream is only held open
        self.open_streams += 1
        try:
            async for frame in self._round(key, conversation, events, live):
                yield frame
        except (asyncio.CancelledError, GeneratorExit):
            # The client went away mid-round: stop the run (a real LLM would go on billing). A paused run
            # stays resumable, as the router keeps HITL sessions; closing a held stream is how a client
            # moves on to the next round.
            if live[0] and run.state is RunState.RUNNING:
                run.cancel("the client disconnected")
            raise
        finally:
            self.open_streams -= 1

    async def _round(
        self, key: str, conversation: Conversation, events: AsyncGenerator[RunEvent, None], live: list[bool]
    ) -> AsyncIterator[Frame]:
        run = conversation.run
        held: list[Frame] = []  # the question (and anything after it) waits until the record is shared
        paused = False
        try:
            async for event in events:
                if isinstance(event, ChunkReceived):
                    frame = {"data": event.chunk.to_wire()}
                    if held or (event.chunk.is_interrupt and self.shared is not None):
                        held.append(frame)
                    else:
                        yield frame
                elif isinstance(event, StateChanged) and event.state is RunState.WAITING_USER_INPUT:
                    paused = True
                    live[0] = False
                    break
        finally:
            await events.aclose()  # unsubscribe now, not when the generator is collected
        if paused:
            release = asyncio.Event()
            conversation.release = release
            conversation.epoch += 1
            await self._share_pause(key, conversation)
        for frame in held:
            yield frame
        if not paused:
            return
        settle = asyncio.ensure_future(run.wait())
        resume = asyncio.ensure_future(release.wait())
        try:
            await asyncio.wait({settle, resume}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            settle.cancel()
            resume.cancel()
        if not release.is_set() and run.state is RunState.CANCELLED and run.chunks and run.chunks[-1].is_cancel:
            yield {"data": run.chunks[-1].to_wire()}

    async def _share_pause(self, key: str, conversation: Conversation) -> None:
        run = conversation.run
        _log.info("worker %s: %s paused at %s", self.id, key, run.pending.stage.value if run.pending else "?")
        if self.shared is None or run.pending is None:
            return
        record = ConversationRecord(
            space_id=run.space_id,
            conversation_id=run.conversation_id,
            question=conversation.question,
            pending=run.pending.model_dump(mode="json"),
            owner=self.id,
            epoch=conversation.epoch,
            agent_config=conversation.agent_config,
            report_template=conversation.report_template,
            exchanges=list(conversation.exchanges),
        )
        try:
            evicted = await self.shared.save_record(record)
        except SharedUnavailable as exc:
            _log.warning("worker %s: %s; %s can be answered on this worker only", self.id, exc, key)
            return
        for old in evicted:  # beyond the shared capacity: the oldest paused conversations end
            space_id, _, conversation_id = old.partition(":")
            _log.info("worker %s: evicting %s (more than %d paused)", self.id, old, self.shared.capacity)
            await self.runs.acancel(conversation_id, space_id=space_id)


def _exchange(run: Run, answer: HitlAnswer) -> dict[str, str]:
    stage = run.exchanges[-1].request.stage.value if run.exchanges else ""
    return {"stage": stage, **_answer_fields(answer)}


def _answer_fields(answer: HitlAnswer) -> dict[str, str]:
    return {"feedback": answer.feedback.value, "message": answer.message}


async def _replay(run: Run) -> AsyncIterator[Frame]:
    for chunk in run.chunks:
        yield {"data": chunk.to_wire()}


async def _only_stream(events: AsyncGenerator[RunEvent, None]) -> AsyncIterator[Frame]:
    try:
        async for event in events:
            if isinstance(event, ChunkReceived):
                yield {"data": event.chunk.to_wire()}
            elif isinstance(event, StateChanged) and event.state is RunState.WAITING_USER_INPUT:
                return
    finally:
        await events.aclose()

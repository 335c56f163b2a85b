"""The run manager: the DeepSearch server's run router, ported into the kernel.

Kept from the router: one run per ``space_id:conversation_id``; a producer task per round that feeds the
run's observers; a cancel event the agent sees through ``cancel_context``, set in the producer before the
first iteration; cancel = set the event + cancel the task + the agent's controller tasks + session
cleanup; a paused (HITL) run keeps its state until an answer or a cancel; paused sessions beyond a
capacity are evicted oldest first, with cleanup; a request on a cancelled key answers with one cancel
chunk; a cancel for a key that is not here is forwarded on a cancel bus.

Done better than the router:
* a round's cleanup removes only its own task (the router's ``finally`` popped the key even after a
  resumed round had replaced it);
* an exception in the agent ends the run FAILED with an error the user sees (the router only logged);
* an agent that ignores cancellation is waited for ``cancel_grace_s``, then the run is reported
  CANCELLED and the stuck task counted as abandoned, not hidden;
* ``cancel`` and ``submit`` are safe from any thread (a widget click may arrive on a kernel subshell);
* no module state: an instance owns the maps (``default_manager()`` is only a convenience).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .._agents._base import Agent, ChunkLike, SupportsSessionCleanup, SupportsTaskCancel, cancel_context
from .._errors import ConfigurationError, InvalidInputError, RunNotFound, RunStateError
from .._protocol import (
    Chunk,
    HitlAnswer,
    HitlRequest,
    InterruptFeedback,
    MalformedChunk,
    cancel_chunk,
    parse_chunk,
)
from .._secrets import scrub_text, secret_values
from ._bus import CancelBus
from ._events import AnswerSubmitted, ChunkReceived, HitlRequested, MalformedChunkReceived
from ._run import HitlExchange, Round, Run
from ._state import CancelOutcome, RunState

__all__ = ["ManagerStats", "RunManager", "default_manager"]

_log = logging.getLogger("deepsearch_nb.runtime")
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ManagerStats:
    """A manager's bookkeeping, so tests and benchmarks can prove nothing leaks."""

    live_runs: int  # runs that are RUNNING or WAITING_USER_INPUT
    running_tasks: int  # producer tasks (one per streaming round)
    paused_sessions: int  # runs waiting for an answer (bounded by hitl_capacity)
    cancel_events: int  # cancel events of live runs
    cancelled_keys: int  # keys that answer a new request with a cancel chunk (bounded by hitl_capacity)
    abandoned_tasks: int  # agent tasks that ignored cancellation and are still running
    internal_tasks: int  # cancel finishers and session cleanups under way
    cached_agents: int  # distinct agent objects held by live runs

    @property
    def is_idle(self) -> bool:
        """Nothing runs, waits or is being cleaned up (cancelled keys are bounded, so not counted)."""
        return not (
            self.live_runs
            or self.running_tasks
            or self.paused_sessions
            or self.cancel_events
            or self.abandoned_tasks
            or self.internal_tasks
        )


class RunManager:
    """Starts, streams, pauses, resumes and cancels research runs; owns all their bookkeeping."""

    def __init__(
        self,
        *,
        hitl_capacity: int = 10,
        cancel_grace_s: float = 2.0,
        cancel_bus: CancelBus | None = None,
    ) -> None:
        if hitl_capacity < 1:
            raise ConfigurationError(f"hitl_capacity must be at least 1, not {hitl_capacity}.")
        if cancel_grace_s < 0:
            raise ConfigurationError(f"cancel_grace_s must be 0 or more seconds, not {cancel_grace_s}.")
        self.hitl_capacity = hitl_capacity
        self.cancel_grace_s = cancel_grace_s
        self._runs: dict[str, Run] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._paused: OrderedDict[str, Run] = OrderedDict()
        self._cancel_events: dict[str, asyncio.Event] = {}
        self._cancelled_keys: OrderedDict[str, None] = OrderedDict()
        self._abandoned: set[asyncio.Task[None]] = set()
        self._internal: set[asyncio.Task[None]] = set()
        self._bus = cancel_bus
        if cancel_bus is not None:
            cancel_bus.add_handler(self._on_remote_cancel)

    # --- public API --------------------------------------------------------------------------------

    def start(
        self,
        agent: Agent,
        question: str,
        *,
        conversation_id: str | None = None,
        space_id: str = "default",
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
    ) -> Run:
        """Start a run on the current event loop and return its handle at once."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RunStateError(
                "RunManager.start() needs a running event loop: call it from async code "
                "(a notebook cell, or inside asyncio.run), or use deepsearch_nb.research_sync()."
            ) from None
        if not isinstance(question, str) or not question.strip():
            raise InvalidInputError("The question is empty: give the agent something to research.")
        conversation_id = conversation_id or f"nb_{uuid.uuid4().hex[:12]}"
        if not _CONVERSATION_ID.match(conversation_id):
            raise InvalidInputError(
                f"conversation_id {conversation_id!r} is invalid: use 1-128 letters, digits, '_' or '-'."
            )
        if not space_id or ":" in space_id:
            raise InvalidInputError(f"space_id {space_id!r} is invalid: use a non-empty name without ':'.")
        run = Run(
            self,
            agent,
            question=question,
            space_id=space_id,
            conversation_id=conversation_id,
            agent_config=agent_config,
            report_template=report_template,
            loop=loop,
        )
        key = run.key
        if key in self._cancelled_keys:
            # The router answers a request on a cancelled key with one cancel chunk.
            del self._cancelled_keys[key]
            run.rounds.append(Round(question, "", 0))
            run.cancel_reason = "this conversation was cancelled; start a new one"
            self._record(run, cancel_chunk(conversation_id))
            run._set_state(RunState.CANCELLED)
            return run
        if key in self._runs:
            raise RunStateError(
                f"A run is already active for {key} ({self._runs[key].state.value}); "
                "answer or cancel it, or use another conversation_id."
            )
        self._runs[key] = run
        self._cancel_events[key] = run.cancel_event
        self._begin_round(run, question, InterruptFeedback.NONE.value)
        return run

    def get(self, conversation_id: str, *, space_id: str = "default") -> Run | None:
        """The live (running or paused) run of that conversation, if any."""
        return self._runs.get(f"{space_id}:{conversation_id}")

    def runs(self) -> list[Run]:
        """The live runs, oldest first."""
        return list(self._runs.values())

    def cancel(self, conversation_id: str, *, space_id: str = "default") -> CancelOutcome:
        """Cancel a run; safe from any thread. A key unknown here is forwarded on the cancel bus."""
        key = f"{space_id}:{conversation_id}"
        run = self._runs.get(key)
        if run is not None:
            return _call_on_loop(run.loop, lambda: self._cancel_local(run))
        if key in self._cancelled_keys:
            return CancelOutcome.CANCELLING
        return self._forward_nowait(space_id, conversation_id)

    async def acancel(self, conversation_id: str, *, space_id: str = "default") -> CancelOutcome:
        """Like :meth:`cancel`, but waits for the bus to confirm a forwarded cancel."""
        key = f"{space_id}:{conversation_id}"
        if key in self._runs or key in self._cancelled_keys or self._bus is None:
            return self.cancel(conversation_id, space_id=space_id)
        published = await self._bus.publish(space_id, conversation_id)
        return CancelOutcome.FORWARDED if published else CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED

    def submit(
        self,
        conversation_id: str,
        answer: HitlAnswer | str | dict[str, Any],
        *,
        space_id: str = "default",
    ) -> None:
        """Answer a paused run and resume it; safe from any thread."""
        key = f"{space_id}:{conversation_id}"
        run = self._runs.get(key)
        if run is None:
            raise RunNotFound(f"No run is waiting for an answer under {key}.")
        _call_on_loop(run.loop, lambda: self._submit_local(run, answer))

    def stats(self) -> ManagerStats:
        return ManagerStats(
            live_runs=len(self._runs),
            running_tasks=len(self._running),
            paused_sessions=len(self._paused),
            cancel_events=len(self._cancel_events),
            cancelled_keys=len(self._cancelled_keys),
            abandoned_tasks=len(self._abandoned),
            internal_tasks=len(self._internal),
            cached_agents=len({id(r.agent) for r in self._runs.values()}),
        )

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until no round is streaming and no cleanup is under way (paused runs stay paused)."""

        async def settle() -> None:
            while True:
                pending = [*self._running.values(), *self._internal]
                if not pending:
                    return
                await asyncio.wait(pending)

        await asyncio.wait_for(settle(), timeout)

    async def aclose(self, timeout: float | None = None) -> None:
        """Cancel every live run and wait for the cleanups."""
        for run in list(self._runs.values()):
            self._cancel_local(run)
        await self.drain(timeout)

    # --- rounds ------------------------------------------------------------------------------------

    def _begin_round(self, run: Run, message: str, feedback: str) -> None:
        run.rounds.append(Round(message, feedback, len(run.chunks)))
        key = run.key
        task = run.loop.create_task(self._produce(run, message, feedback), name=f"deepsearch-nb {key}")
        self._running[key] = task

        def forget(done: asyncio.Task[None]) -> None:
            # Only our own entry: a resumed round may already have replaced it under the same key (the
            # router popped the key unconditionally). A done-callback also covers a task cancelled
            # before its first step, whose body (and `finally`) never runs.
            if self._running.get(key) is done:
                del self._running[key]

        task.add_done_callback(forget)

    async def _produce(self, run: Run, message: str, feedback: str) -> None:
        """One round: iterate the agent in this task, with the run's cancel event in its context."""
        token = cancel_context.set(run.cancel_event)  # before the first iteration, as the SDK needs
        stream = None
        try:
            stream = run.agent.run(message, run.conversation_id, run.agent_config, run.report_template, feedback)
            async for raw in stream:
                if run.cancel_requested:
                    break  # late chunks after a cancel are dropped
                if self._accept(run, raw):
                    break  # an interrupt ends the round; the run now waits
            else:
                if not run.cancel_requested:
                    self._end_round(run)
        except asyncio.CancelledError:
            if not run.cancel_requested:  # cancelled from outside (loop shutdown, kernel interrupt)
                run.cancel_event.set()
                self._spawn(self._finish_cancel(run, None, "the run's task was cancelled"))
            raise
        except Exception as exc:
            if not run.cancel_requested:
                self._retire(run, RunState.FAILED, error=f"The agent failed: {type(exc).__name__}: {exc}")
        finally:
            if stream is not None:
                await _aclose_quietly(stream)
            cancel_context.reset(token)

    def _accept(self, run: Run, raw: ChunkLike) -> bool:
        """Take one raw chunk; returns True when it was an interrupt (the run is now paused)."""
        parsed = parse_chunk(raw)
        if isinstance(parsed, MalformedChunk):
            run.malformed.append(parsed)
            run.progress.malformed += 1
            run._emit(MalformedChunkReceived(run, parsed))
            return False
        request = self._record(run, parsed)
        if request is None:
            return False
        run.pending = request
        run._emit(HitlRequested(run, request))
        self._paused[run.key] = run
        run._set_state(RunState.WAITING_USER_INPUT)
        self._evict_over_capacity()
        return True

    def _record(self, run: Run, chunk: Chunk) -> HitlRequest | None:
        run.chunks.append(chunk)
        request = run.progress.feed(chunk)
        run._emit(ChunkReceived(run, chunk))
        return request

    def _end_round(self, run: Run) -> None:
        progress = run.progress
        if run.state is not RunState.RUNNING:
            return
        if run.chunks and run.chunks[-1].is_cancel:
            self._retire(run, RunState.CANCELLED, reason="the agent reported the run cancelled")
        elif progress.all_end and progress.error:
            self._retire(run, RunState.FAILED, error=f"The agent reported an error: {progress.error}")
        elif progress.all_end:
            self._retire(run, RunState.COMPLETED)
        else:
            self._retire(
                run,
                RunState.FAILED,
                error="The agent's stream ended without a final result (no ALL END) and without a question.",
            )

    def _submit_local(self, run: Run, value: HitlAnswer | str | dict[str, Any]) -> None:
        answer = HitlAnswer.coerce(value, run.pending.stage if run.pending is not None else None)
        if answer.feedback == InterruptFeedback.CANCEL:
            self._cancel_local(run)
            return
        request = run.pending
        if run.state is not RunState.WAITING_USER_INPUT or request is None:
            raise RunStateError(
                f"The run {run.key} is {run.state.value}; it takes an answer only while WAITING_USER_INPUT."
            )
        request.check(answer)  # a bad answer is refused here and the run stays paused
        run.pending = None
        self._paused.pop(run.key, None)
        run.exchanges.append(HitlExchange(request, answer))
        run._emit(AnswerSubmitted(run, request, answer))
        run._set_state(RunState.RUNNING)
        self._begin_round(run, answer.message, answer.feedback.value)

    # --- cancellation ------------------------------------------------------------------------------

    def _cancel_local(self, run: Run) -> CancelOutcome:
        if run.state.terminal:
            return (
                CancelOutcome.CANCELLING
                if run.state is RunState.CANCELLED
                else (CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED)
            )
        if run.cancel_requested:
            return CancelOutcome.CANCELLING  # twice: the first one is already on its way
        run.cancel_event.set()
        self._paused.pop(run.key, None)
        task = self._running.get(run.key)
        if task is not None:
            task.cancel()
        self._spawn(self._finish_cancel(run, task, "cancelled by the user"))
        return CancelOutcome.CANCELLING

    async def _finish_cancel(self, run: Run, task: asyncio.Task[None] | None, reason: str) -> None:
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=self.cancel_grace_s)
            if not done:
                _log.warning(
                    "the agent of %s ignored cancellation for %.1fs; abandoning it", run.key, self.cancel_grace_s
                )
                run.abandoned = True
                self._abandoned.add(task)
                task.add_done_callback(self._abandoned.discard)
                if self._running.get(run.key) is task:
                    del self._running[run.key]
        self._record(run, cancel_chunk(run.conversation_id))
        await self._retire_async(run, RunState.CANCELLED, reason=reason)

    def _evict_over_capacity(self) -> None:
        while len(self._paused) > self.hitl_capacity:
            _, oldest = self._paused.popitem(last=False)
            oldest.cancel_event.set()
            self._record(oldest, cancel_chunk(oldest.conversation_id))
            self._retire(
                oldest,
                RunState.CANCELLED,
                reason=f"evicted: more than {self.hitl_capacity} runs were waiting for answers",
            )

    def _forward_nowait(self, space_id: str, conversation_id: str) -> CancelOutcome:
        bus = self._bus
        if bus is None or not bus.connected:
            return CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED

        async def publish() -> None:
            await bus.publish(space_id, conversation_id)

        self._spawn(publish())
        return CancelOutcome.FORWARDED

    def _on_remote_cancel(self, space_id: str, conversation_id: str) -> None:
        run = self._runs.get(f"{space_id}:{conversation_id}")
        if run is not None:  # only runs of this process; others ignore the message
            run.loop.call_soon_threadsafe(self._cancel_local, run)

    # --- endings -----------------------------------------------------------------------------------

    def _retire(self, run: Run, state: RunState, *, error: str | None = None, reason: str | None = None) -> None:
        """End a run now and clean its session up in the background."""
        self._spawn(self._retire_async(run, state, error=error, reason=reason))

    async def _retire_async(
        self, run: Run, state: RunState, *, error: str | None = None, reason: str | None = None
    ) -> None:
        if run.state.terminal:
            return
        key = run.key
        if self._runs.get(key) is run:
            del self._runs[key]
            self._cancel_events.pop(key, None)
            self._paused.pop(key, None)
        if error is not None:  # agents' exception texts may echo a key: never let one reach a cell
            run.error = scrub_text(error, secret_values(run.agent_config))
        if reason is not None and run.cancel_reason is None:
            run.cancel_reason = reason
        if state is RunState.CANCELLED:
            self._cancelled_keys[key] = None
            while len(self._cancelled_keys) > self.hitl_capacity:
                self._cancelled_keys.popitem(last=False)
        if state is not RunState.COMPLETED:  # the agent released the session itself on ALL END
            await _cleanup_agent(run, cancelled=state is RunState.CANCELLED)
        run._set_state(state)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._internal.add(task)
        task.add_done_callback(self._internal.discard)


async def _cleanup_agent(run: Run, *, cancelled: bool) -> None:
    """The router's cleanup: controller tasks (on cancel), then the session cache; errors only logged."""
    agent = run.agent
    if cancelled and isinstance(agent, SupportsTaskCancel):
        try:
            await agent.cancel_tasks(run.conversation_id)
        except Exception:
            _log.exception("cancel_tasks failed for %s", run.key)
    if isinstance(agent, SupportsSessionCleanup):
        try:
            await agent.cleanup_session(run.conversation_id)
        except Exception:
            _log.exception("cleanup_session failed for %s", run.key)


async def _aclose_quietly(stream: Any) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except (Exception, asyncio.CancelledError):  # a generator that misbehaves while closing
        _log.debug("closing an agent stream failed", exc_info=True)


def _call_on_loop(loop: asyncio.AbstractEventLoop, fn: Callable[[], _T], timeout: float = 10.0) -> _T:
    """Run ``fn`` on ``loop``'s thread and return its result; directly when we are already there."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop or not loop.is_running():
        return fn()
    if loop.is_closed():
        raise RunStateError("The run's event loop is closed; the run cannot be steered any more.")
    future: concurrent.futures.Future[_T] = concurrent.futures.Future()

    def call() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    loop.call_soon_threadsafe(call)
    return future.result(timeout)


_default: RunManager | None = None


def default_manager() -> RunManager:
    """The process-wide manager the notebook helpers use when none is given."""
    global _default
    if _default is None:
        _default = RunManager()
    return _default

"""The run lifecycle behind :class:`RunManager`: rounds, their endings, cancellation, eviction, retirement.

The one place a run's state changes. Everything here runs on the run's own loop; the manager's public,
thread-safe calls hop there first (``on_loop``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from .._errors import RunStateError
from .._protocol import HitlAnswer, InterruptFeedback, cancel_chunk
from .._secrets import scrub_text
from ._bus import CancelBus
from ._cleanup import cleanup_agent
from ._events import AnswerBy, AnswerSubmitted, HitlRequested, Notice, NoticeKind
from ._producer import Ending, Limits, Outcome, produce
from ._record import HitlExchange, Round, RunRecord
from ._state import CancelOutcome, RunState
from ._stepping import Stepping
from ._watchdog import watch

__all__ = ["Lifecycle"]

_log = logging.getLogger("deepsearch_nb.runtime")


class Lifecycle(Stepping):
    """The manager's bookkeeping and state transitions (subclassed by :class:`RunManager`)."""

    cancel_grace_s: float
    hitl_capacity: int
    stall_after_s: float
    _limits: Limits

    def _init_lifecycle(self, cancel_bus: CancelBus | None) -> None:
        self._runs: dict[str, RunRecord] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._paused: OrderedDict[str, RunRecord] = OrderedDict()
        self._cancelled_keys: OrderedDict[str, None] = OrderedDict()
        self._abandoned: set[asyncio.Task[Any]] = set()
        self._internal: set[asyncio.Task[None]] = set()
        self._bus = cancel_bus
        if cancel_bus is not None:
            cancel_bus.add_handler(self._on_remote_cancel)

    # --- rounds ------------------------------------------------------------------------------------

    def _begin_round(self, record: RunRecord, message: str, feedback: str) -> None:
        record.rounds.append(Round(message, feedback, record.chunk_total))
        key = record.key
        task = record.loop.create_task(self._round(record, message, feedback), name=f"deepsearch-nb {key}")
        self._running[key] = task

        def forget(done: asyncio.Task[None]) -> None:
            # Only our own entry: a resumed round may already have replaced it under the same key. A
            # done-callback also covers a task cancelled before its first step, whose body never runs.
            if self._running.get(key) is done:
                del self._running[key]

        task.add_done_callback(forget)
        watch(record, self.stall_after_s)

    async def _round(self, record: RunRecord, message: str, feedback: str) -> None:
        number = len(record.rounds)
        task = asyncio.current_task()

        def overran(outcome: Outcome) -> None:
            # The agent swallowed the cancel that bounds its ending: settle the round from what it sent,
            # and leave its task to finish alone (counted as abandoned), as a cancel does.
            if task is not None and self._running.get(record.key) is task:
                del self._running[record.key]
                self._leave(task)
            self._settle(record, outcome, number)

        try:
            outcome = await produce(record, message, feedback, self._limits, overran, self._step_pause)
        except asyncio.CancelledError:
            if not record.cancel_event.is_set():  # cancelled from outside (loop shutdown)
                self._cancel_now(record, "the run's task was cancelled")
            raise
        self._settle(record, outcome, number)

    def _settle(self, record: RunRecord, outcome: Outcome, number: int) -> None:
        """The one place a round's ending becomes the run's next state (once per round)."""
        if number <= record.settled_round:
            return  # settled already (its agent overran its ending), or a later round runs now
        record.settled_round = number
        if record.cancel_event.is_set() or record.state is not RunState.RUNNING:
            return  # the cancel path finishes the run
        ending = outcome.ending
        if ending is Ending.PAUSED and outcome.request is not None:
            record.pending = outcome.request
            record.emit(HitlRequested(outcome.request))
            self._paused[record.key] = record
            record.set_state(RunState.WAITING_USER_INPUT)
            self._evict_over_capacity()
        elif ending is Ending.INTERRUPTED:
            self._cancel_now(record, outcome.error or "interrupted")
        elif ending is Ending.FAILED:
            self._retire(record, RunState.FAILED, error=outcome.error)
        else:
            self._end_round(record)

    def _end_round(self, record: RunRecord) -> None:
        progress = record.progress
        if record.chunks and record.chunks[-1].is_cancel:
            self._retire(record, RunState.CANCELLED, reason="the agent reported the run cancelled")
        elif progress.all_end and progress.error:
            self._retire(record, RunState.FAILED, error=f"The agent reported an error: {progress.error}")
        elif progress.all_end:
            self._retire(record, RunState.COMPLETED)
        else:
            self._retire(
                record,
                RunState.FAILED,
                error="The agent's stream ended without a final result (no ALL END) and without a question.",
            )

    def _submit_now(self, record: RunRecord, value: HitlAnswer | str | dict[str, Any], by: AnswerBy) -> None:
        if record.cancel_event.is_set() or record.state.terminal:
            raise RunStateError(
                f"The run {record.key} is {'being cancelled' if not record.state.terminal else record.state.value}; "
                "it takes no more answers."
            )
        request = record.pending
        answer = HitlAnswer.coerce(value, request.stage if request is not None else None)
        if answer.feedback == InterruptFeedback.CANCEL:
            self._cancel_now(record, "cancelled by the answer 'cancel'")
            return
        if record.state is not RunState.WAITING_USER_INPUT or request is None:
            raise RunStateError(
                f"The run {record.key} is {record.state.value}; it takes an answer only while WAITING_USER_INPUT."
            )
        request.check(answer)  # a bad answer is refused here and the run stays paused
        if record.step_future is not None:  # the runtime's step pause: the same round goes on
            self._answer_step(record, request, answer, by)
            return
        record.pending = None
        self._paused.pop(record.key, None)
        record.exchanges.append(HitlExchange(request, answer, AnswerBy(by)))
        record.emit(AnswerSubmitted(request, answer, AnswerBy(by)))
        record.set_state(RunState.RUNNING)
        self._begin_round(record, answer.message, answer.feedback.value)

    # --- cancellation ------------------------------------------------------------------------------

    def _cancel_now(self, record: RunRecord, reason: str) -> CancelOutcome:
        ending = record.state if record.state.terminal else record.retiring
        if ending is not None:  # over, or its ending decided (a cancel now would only add a stray chunk)
            if ending is RunState.CANCELLED:
                return CancelOutcome.CANCELLING
            return CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED
        if record.cancel_event.is_set():
            return CancelOutcome.CANCELLING  # twice: the first one is already on its way
        record.cancel_event.set()
        if record.cancel_reason is None:
            record.cancel_reason = reason
        self._paused.pop(record.key, None)
        task = self._running.get(record.key)
        if task is not None:
            task.cancel()
        self._spawn(record.loop, self._finish_cancel(record, task))
        return CancelOutcome.CANCELLING

    async def _finish_cancel(self, record: RunRecord, task: asyncio.Task[None] | None) -> None:
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=self.cancel_grace_s)
            if not done:
                _log.warning(
                    "the agent of %s ignored cancellation for %.1fs; abandoning it", record.key, self.cancel_grace_s
                )
                record.abandoned = True
                message = (
                    f"The agent ignored the cancel for {self.cancel_grace_s:g} s; its task was left to finish "
                    "alone and may still be working (and spending)."
                )
                record.notice(Notice(NoticeKind.ABANDONED, message))
                self._leave(task)
                if self._running.get(record.key) is task:
                    del self._running[record.key]
        record.record_chunk(cancel_chunk(record.conversation_id))
        await self._retire_async(record, RunState.CANCELLED)

    def _cancel_orphan(self, record: RunRecord, reason: str) -> CancelOutcome:
        """Cancel a run whose loop has closed (a run paused inside ``asyncio.run`` that returned).

        Also when a cancel or an ending was under way: its finisher died with the loop, and nothing else
        can end the run now.
        """
        if record.state.terminal:
            if record.state is RunState.CANCELLED:
                return CancelOutcome.CANCELLING
            return CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED
        record.cancel_event.set()
        record.cancel_reason = record.cancel_reason or reason
        self._forget(record)
        self._running.pop(record.key, None)
        for task in [t for t in (*self._internal, *self._abandoned) if t.get_loop().is_closed()]:
            self._internal.discard(task)  # died with their loop: no done-callback will ever remove them
            self._abandoned.discard(task)
        self._remember_cancelled(record.key)
        record.record_chunk(cancel_chunk(record.conversation_id))
        record.set_state(RunState.CANCELLED)
        cleanup = cleanup_agent(record, cancelled=True, timeout=self.cancel_grace_s)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(cleanup)
        else:
            self._spawn(loop, cleanup)
        return CancelOutcome.CANCELLING

    def _evict_over_capacity(self) -> None:
        while len(self._paused) > self.hitl_capacity:
            _, oldest = self._paused.popitem(last=False)
            self._stop_held_round(oldest)
            oldest.cancel_event.set()
            oldest.record_chunk(cancel_chunk(oldest.conversation_id))
            reason = f"evicted: more than {self.hitl_capacity} runs were waiting for answers"
            self._retire(oldest, RunState.CANCELLED, reason=reason)

    def _forward_nowait(self, space_id: str, conversation_id: str) -> CancelOutcome:
        bus = self._bus
        if bus is None or not bus.connected:
            return CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED

        async def publish() -> None:
            await bus.publish(space_id, conversation_id)

        self._spawn(loop, publish())
        return CancelOutcome.FORWARDED

    def _on_remote_cancel(self, space_id: str, conversation_id: str) -> None:
        record = self._runs.get(f"{space_id}:{conversation_id}")
        if record is not None and not record.loop.is_closed():  # only runs of this process
            record.loop.call_soon_threadsafe(self._cancel_now, record, "cancelled from another worker")

    # --- endings -----------------------------------------------------------------------------------

    def _retire(
        self, record: RunRecord, state: RunState, *, error: str | None = None, reason: str | None = None
    ) -> None:
        """End a run now and clean its session up in the background."""
        if record.retiring is None:
            record.retiring = state
        self._spawn(record.loop, self._retire_async(record, state, error=error, reason=reason))

    async def _retire_async(
        self, record: RunRecord, state: RunState, *, error: str | None = None, reason: str | None = None
    ) -> None:
        if record.state.terminal:
            return
        self._forget(record)
        if error is not None:  # agents' exception texts may echo a key: never let one reach a cell
            record.error = scrub_text(error, list(record.secrets))
        if reason is not None and record.cancel_reason is None:
            record.cancel_reason = reason
        if state is RunState.CANCELLED:
            self._remember_cancelled(record.key)
        if state is not RunState.COMPLETED:  # the agent released the session itself on ALL END
            cancelled = state is RunState.CANCELLED
            for step in await cleanup_agent(record, cancelled=cancelled, timeout=self.cancel_grace_s):
                self._leave(step)
        record.set_state(state)

    def _forget(self, record: RunRecord) -> None:
        key = record.key
        if self._runs.get(key) is record:
            del self._runs[key]
        if self._paused.get(key) is record:
            del self._paused[key]
        if record.watchdog is not None:
            record.watchdog.cancel()
            record.watchdog = None

    def _remember_cancelled(self, key: str) -> None:
        self._cancelled_keys[key] = None
        while len(self._cancelled_keys) > self.hitl_capacity:
            self._cancelled_keys.popitem(last=False)

    def _leave(self, task: asyncio.Task[Any]) -> None:
        """An agent's task that ignored its cancel: counted in ``stats()`` until it finishes alone."""
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)

    def _spawn(self, loop: asyncio.AbstractEventLoop, coro: Any) -> None:
        task: asyncio.Task[None] = loop.create_task(coro)
        self._internal.add(task)
        task.add_done_callback(self._internal.discard)

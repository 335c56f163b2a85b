"""The run manager: the DeepSearch server's run router, ported into the kernel.

Kept from the router: one run per ``space_id:conversation_id``; a producer task per round that feeds the
run's observers; a cancel event the agent sees through ``cancel_context``, set in the producer before the
first iteration; cancel = set the event + cancel the task + the agent's controller tasks + session
cleanup; a paused (HITL) run keeps its state until an answer or a cancel; paused sessions beyond a
capacity are evicted oldest first, with cleanup; a request on a cancelled key answers with one cancel
chunk; a cancel for a key that is not here is forwarded on a cancel bus.

Done better than the router:
* a round's cleanup removes only its own task (the router popped the key even after a resumed round);
* an exception in the agent ends the run FAILED with an error the user sees (the router only logged);
* every wait on an agent is bounded (its stream's end, ``aclose``, a cancel, a cleanup) and reported;
* ``cancel`` and ``submit`` are safe from any thread, with one hop onto the run's loop at most, and they
  still work after that loop has closed;
* no module state: an instance owns the maps (``default_manager()`` is only a convenience).

The manager is the only writer of its runs' records; a :class:`Run` only reads and asks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from .._agents._base import Agent
from .._errors import RunNotFound, RunStateError
from .._protocol import HitlAnswer, InterruptFeedback, ReportTemplate, cancel_chunk
from ._bus import CancelBus
from ._events import AnswerBy
from ._lifecycle import Lifecycle
from ._limits import ManagerStats, check_count, check_seconds, new_record
from ._loops import on_loop
from ._producer import Limits
from ._record import Round, RunRecord
from ._run import Run
from ._state import CancelOutcome, RunState

__all__ = ["RunManager", "default_manager"]

_log = logging.getLogger("deepsearch_nb.runtime")
_USER = "cancelled by the user"


class RunManager(Lifecycle):
    """Starts, streams, pauses, resumes and cancels research runs; owns all their bookkeeping.

    ``hitl_capacity``: paused runs kept before the oldest is evicted. ``cancel_grace_s``: how long a
    cancelled agent may take to stop before it is abandoned. ``end_grace_s``: how long an agent's stream
    may go on after its last chunk (the SDK saves its state then). ``close_grace_s``: how long closing a
    stream may take. ``stall_after_s``: no output for this long is shown as a stall (0: never).
    ``history_limit``: chunks kept per run (the progress fold keeps the text; transcripts keep all).
    """

    def __init__(
        self,
        *,
        hitl_capacity: int = 10,
        cancel_grace_s: float = 2.0,
        cancel_bus: CancelBus | None = None,
        end_grace_s: float = 10.0,
        close_grace_s: float = 2.0,
        stall_after_s: float = 60.0,
        history_limit: int = 5000,
    ) -> None:
        self.hitl_capacity = check_count("hitl_capacity", hitl_capacity)
        self.cancel_grace_s = check_seconds("cancel_grace_s", cancel_grace_s)
        self.stall_after_s = check_seconds("stall_after_s", stall_after_s)
        self.history_limit = check_count("history_limit", history_limit, minimum=2)
        self._limits = Limits(check_seconds("end_grace_s", end_grace_s), check_seconds("close_grace_s", close_grace_s))
        self._init_lifecycle(cancel_bus)

    # --- public API --------------------------------------------------------------------------------

    def start(
        self,
        agent: Agent,
        question: str,
        *,
        conversation_id: str | None = None,
        space_id: str = "default",
        agent_config: Mapping[str, Any] | None = None,
        report_template: str | ReportTemplate = "",
        step: bool = False,
    ) -> Run:
        """Start a run on the current event loop and return its handle at once.

        ``report_template``: Markdown (or base64) text, or a resolved :class:`ReportTemplate` whose name
        and hash the run's report and transcript then record. ``step``: pause at every stage boundary (see
        :meth:`Run.set_step`), not only where the agent asks.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RunStateError(
                "RunManager.start() needs a running event loop: call it from async code "
                "(a notebook cell, or inside asyncio.run), or use deepsearch_nb.research_sync()."
            ) from None
        record = new_record(
            agent,
            question,
            conversation_id=conversation_id,
            space_id=space_id,
            agent_config=agent_config,
            report_template=report_template,
            loop=loop,
            history_limit=self.history_limit,
        )
        run = Run(record, self)
        record.view = run
        record.step = bool(step)
        key = record.key
        if key in self._cancelled_keys:
            # The router answers a request on a cancelled key with one cancel chunk.
            del self._cancelled_keys[key]
            record.rounds.append(Round(question, "", 0))
            record.cancel_reason = "this conversation was cancelled; start a new one"
            record.record_chunk(cancel_chunk(record.conversation_id))
            record.set_state(RunState.CANCELLED)
            return run
        if key in self._runs:
            raise RunStateError(
                f"A run is already active for {key} ({self._runs[key].state.value}); "
                "answer or cancel it, or use another conversation_id."
            )
        self._runs[key] = record
        self._begin_round(record, question, InterruptFeedback.NONE.value)
        return run

    def get(self, conversation_id: str, *, space_id: str = "default") -> Run | None:
        """The live (running or paused) run of that conversation, if any."""
        record = self._runs.get(f"{space_id}:{conversation_id}")
        return None if record is None else _view(record)

    def runs(self) -> list[Run]:
        """The live runs, oldest first."""
        return [_view(r) for r in self._runs.values()]

    def cancel(self, conversation_id: str, *, space_id: str = "default", reason: str | None = None) -> CancelOutcome:
        """Cancel a run; safe from any thread. A key unknown here is forwarded on the cancel bus."""
        key = f"{space_id}:{conversation_id}"
        record = self._runs.get(key)
        if record is not None:
            return self.cancel_run(record, reason)
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
        by: AnswerBy = AnswerBy.PERSON,
    ) -> None:
        """Answer a paused run and resume it; safe from any thread."""
        key = f"{space_id}:{conversation_id}"
        record = self._runs.get(key)
        if record is None:
            raise RunNotFound(f"No run is waiting for an answer under {key}.")
        self.submit_run(record, answer, by)

    def stats(self) -> ManagerStats:
        return ManagerStats(
            live_runs=len(self._runs),
            running_tasks=len(self._running),
            paused_sessions=len(self._paused),
            cancel_events=sum(1 for r in self._runs.values() if not r.state.terminal),
            cancelled_keys=len(self._cancelled_keys),
            abandoned_tasks=len(self._abandoned),
            internal_tasks=len(self._internal),
            cached_agents=len({id(r.agent) for r in self._runs.values()}),
            step_pauses=sum(1 for r in self._paused.values() if r.step_future is not None),
        )

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until no round is streaming and no cleanup is under way (paused runs stay paused).

        Raises ``TimeoutError`` after ``timeout`` seconds (what is still under way shows in ``stats()``).
        """

        async def settle() -> None:
            while True:
                # A round held at a step pause is paused, not streaming: its task is not waited for.
                held = {k for k, r in self._paused.items() if r.step_future is not None}
                pending = [*(t for k, t in self._running.items() if k not in held), *self._internal]
                if not pending:
                    return
                stepping = any(r.step for r in self._runs.values())
                await asyncio.wait(pending, timeout=0.05 if stepping else None)

        await asyncio.wait_for(settle(), timeout)

    async def aclose(self, timeout: float | None = None) -> None:
        """Cancel every live run and wait for the cleanups."""
        for record in list(self._runs.values()):
            self._cancel_now(record, "the run manager was closed")
        await self.drain(timeout)

    # --- steering (the Run's calls; any thread) -------------------------------------------------------

    def cancel_run(self, record: RunRecord, reason: str | None = None) -> CancelOutcome:
        if record.loop.is_closed():
            return self._cancel_orphan(record, reason or _USER)
        return on_loop(record.loop, lambda: self._cancel_now(record, reason or _USER))

    def set_step_run(self, record: RunRecord, on: bool) -> None:
        def switch() -> None:
            record.step = bool(on)
            if not on and record.step_future is not None and record.pending is not None:
                self._submit_now(record, HitlAnswer.step("run to end"), AnswerBy.PERSON)

        if record.loop.is_closed():
            record.step = bool(on)
            return
        on_loop(record.loop, switch)

    def submit_run(self, record: RunRecord, answer: HitlAnswer | str | dict[str, Any], by: AnswerBy) -> None:
        if record.loop.is_closed():
            raise RunStateError(
                f"The event loop of run {record.key} has closed, so it cannot go on; cancel it and start again."
            )
        on_loop(record.loop, lambda: self._submit_now(record, answer, by))


def _view(record: RunRecord) -> Run:
    view = record.view
    assert isinstance(view, Run)
    return view


_default: RunManager | None = None


def default_manager() -> RunManager:
    """The process-wide manager the notebook helpers use when none is given."""
    global _default
    if _default is None:
        _default = RunManager()
    return _default

"""The handle of one research run: a read-only view of its record, and the calls that steer it.

A run spans every round of one conversation (question, answers, report). Nothing here writes the run's
state: ``cancel`` and ``submit`` go to the manager that owns the run (one call, one thread hop at most),
and everything else only reads. ``cancel`` and ``submit`` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar, overload

from .._agents._base import Agent
from .._protocol import Chunk, FinalResult, HitlAnswer, HitlRequest, MalformedChunk, ReportTemplate, ResearchProgress
from ._events import AnswerBy, Notice, RunEvent, StateChanged
from ._ledger import usage_summary
from ._record import HitlExchange, Listener, Round, RunRecord, Steering
from ._state import CancelOutcome, RunState

__all__ = ["Run"]

_T = TypeVar("_T")


class _View(Sequence[_T]):
    """A read-only window on one of the record's lists (O(1) to make, no copy)."""

    __slots__ = ("_items",)

    def __init__(self, items: list[_T]) -> None:
        self._items = items

    @overload
    def __getitem__(self, index: int) -> _T: ...
    @overload
    def __getitem__(self, index: slice) -> list[_T]: ...
    def __getitem__(self, index: int | slice) -> _T | list[_T]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[_T]:
        return iter(self._items)

    def __repr__(self) -> str:
        return repr(self._items)

    def __eq__(self, other: object) -> bool:
        return list(self._items) == (list(other) if isinstance(other, Sequence) else other)

    __hash__ = None  # type: ignore[assignment]


class Run:
    """One conversation with an agent, from the question to a terminal state.

    Await it (``await run``) to wait for the end; ``until_settled()`` also returns at a question.
    """

    __slots__ = ("_record", "_steering")

    def __init__(self, record: RunRecord, steering: Steering) -> None:
        self._record = record
        self._steering = steering

    # --- reading -----------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """The run router's key, ``space_id:conversation_id``."""
        return self._record.key

    @property
    def agent(self) -> Agent:
        return self._record.agent

    @property
    def question(self) -> str:
        return self._record.question

    @property
    def space_id(self) -> str:
        return self._record.space_id

    @property
    def conversation_id(self) -> str:
        return self._record.conversation_id

    @property
    def agent_config(self) -> Mapping[str, Any]:
        return MappingProxyType(dict(self._record.agent_config))

    @property
    def report_template(self) -> str:
        return self._record.report_template

    @property
    def template(self) -> ReportTemplate | None:
        """The report template of this run (its name, content and hash), or None."""
        return self._record.template

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._record.loop

    @property
    def state(self) -> RunState:
        return self._record.state

    @property
    def progress(self) -> ResearchProgress:
        """The fold of the stream so far (read it; the manager is its only writer)."""
        return self._record.progress

    @property
    def chunks(self) -> Sequence[Chunk]:
        """The latest chunks (up to the manager's ``history_limit``; ``chunk_total`` counts them all)."""
        return self._record.chunks

    @property
    def chunk_total(self) -> int:
        return self._record.chunk_total

    @property
    def malformed(self) -> Sequence[MalformedChunk]:
        return _View(self._record.malformed)

    @property
    def rounds(self) -> Sequence[Round]:
        return _View(self._record.rounds)

    @property
    def exchanges(self) -> Sequence[HitlExchange]:
        return _View(self._record.exchanges)

    @property
    def notices(self) -> Sequence[Notice]:
        """Warnings about the run: stalled, abandoned after a cancel, an unclean end."""
        return _View(self._record.notices)

    @property
    def pending(self) -> HitlRequest | None:
        """The question the run waits on (only while WAITING_USER_INPUT)."""
        return self._record.pending

    @property
    def error(self) -> str | None:
        return self._record.error

    @property
    def cancel_reason(self) -> str | None:
        return self._record.cancel_reason

    @property
    def abandoned(self) -> bool:
        """The agent ignored cancellation and its task was left to finish alone."""
        return self._record.abandoned

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret strings this run knows of (from its config and its agent), for scrubbing."""
        return self._record.secrets

    @property
    def started_at(self) -> datetime:
        return self._record.started_at

    @property
    def ended_at(self) -> datetime | None:
        return self._record.ended_at

    @property
    def result(self) -> FinalResult | None:
        return self._record.progress.final_result

    @property
    def usage(self) -> dict[str, Any]:
        """LLM tokens in and out, per stage and in all (``stages``, ``input_tokens``, ``output_tokens``,
        ``calls``), as the agent reported them (else the final result's totals), and the budget if any."""
        record = self._record
        result = record.progress.final_result
        result_usage = result.workflow_llm_token_usage if result else None
        return usage_summary(record.usage, result_usage, record.budget, record.budget_reached)

    @property
    def report_markdown(self) -> str:
        """The report, or what was written before the run stopped."""
        return self._record.progress.report_markdown()

    @property
    def elapsed_s(self) -> float:
        record = self._record
        end = record.t_end if record.t_end is not None else time.perf_counter()
        return end - record.t0

    @property
    def step(self) -> bool:
        """Step mode: the run pauses at every stage boundary (a pending request of stage ``step``)."""
        return self._record.step

    @property
    def cancel_requested(self) -> bool:
        return self._record.cancel_event.is_set()

    def __repr__(self) -> str:
        return f"<Run {self.key} {self.state.value} chunks={self.chunk_total}>"

    # --- steering (any thread) -----------------------------------------------------------------------

    def cancel(self, reason: str | None = None) -> CancelOutcome:
        """Stop the run and clean up its session; safe from any thread.

        ``reason`` is what the panel and the report say ("cancelled by the user" when not given).
        """
        return self._steering.cancel_run(self._record, reason)

    def submit(self, answer: HitlAnswer | str | dict[str, Any], *, by: AnswerBy = AnswerBy.PERSON) -> None:
        """Answer the pending question and start the next round; safe from any thread.

        Raises ``RunStateError`` when the run is not waiting (or is being cancelled), ``InvalidInputError``
        when the answer does not fit the question (the run stays paused and nothing is lost).
        """
        self._steering.submit_run(self._record, answer, by)

    def set_step(self, on: bool) -> None:
        """Switch step mode on or off while the run goes; off at a step pause goes on ("Run to end")."""
        self._steering.set_step_run(self._record, on)

    # --- observing -----------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on the run's loop for every event from now on; returns an unsubscribe."""
        listeners = self._record.listeners
        listeners.append(listener)

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return unsubscribe

    def events(self) -> AsyncGenerator[RunEvent, None]:
        """The events from this call on until the run's terminal state (the last one yielded).

        The subscription starts here, not at the first iteration, so a consumer started later as a task
        misses nothing.
        """
        queue: asyncio.Queue[RunEvent] = asyncio.Queue()
        unsubscribe = self.subscribe(queue.put_nowait)
        return _iterate(queue, unsubscribe, done=self.state.terminal)

    async def until_settled(self, timeout: float | None = None) -> RunState:
        """Wait until the run asks a question or ends; returns the state."""
        return await self._wait_for(lambda s: s.settled, timeout)

    async def wait(self, timeout: float | None = None) -> Run:
        """Wait for a terminal state (questions must be answered by someone else meanwhile)."""
        await self._wait_for(lambda s: s.terminal, timeout)
        return self

    def __await__(self) -> Generator[Any, None, Run]:
        return self.wait().__await__()

    async def _wait_for(self, predicate: Callable[[RunState], bool], timeout: float | None) -> RunState:
        record = self._record
        if predicate(record.state):
            return record.state
        future: asyncio.Future[RunState] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        record.waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if entry in record.waiters:
                record.waiters.remove(entry)


async def _iterate(
    queue: asyncio.Queue[RunEvent], unsubscribe: Callable[[], None], *, done: bool
) -> AsyncGenerator[RunEvent, None]:
    try:
        while not done:
            event = await queue.get()
            yield event
            done = isinstance(event, StateChanged) and event.state.terminal
    finally:
        unsubscribe()

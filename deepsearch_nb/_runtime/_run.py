"""The handle of one research run: its state, what it has received, and the calls that steer it.

A run spans every round of one conversation (question, answers, report). Its fields are written only on
the event loop that runs it; ``cancel`` and ``submit`` may be called from any thread and hand over to
that loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._agents._base import Agent
from .._protocol import (
    Chunk,
    FinalResult,
    HitlAnswer,
    HitlRequest,
    MalformedChunk,
    ResearchProgress,
)
from ._events import RunEvent, StateChanged
from ._state import CancelOutcome, RunState

if TYPE_CHECKING:
    from ._manager import RunManager

__all__ = ["HitlExchange", "Round", "Run"]

_log = logging.getLogger("deepsearch_nb.runtime")

Listener = Callable[[RunEvent], None]


@dataclass(frozen=True, slots=True)
class Round:
    """One ``agent.run`` call: what was sent, and where its chunks start in ``Run.chunks``."""

    message: str
    interrupt_feedback: str
    first_chunk: int


@dataclass(frozen=True, slots=True)
class HitlExchange:
    """A question the run asked and the answer it got."""

    request: HitlRequest
    answer: HitlAnswer


class Run:
    """One conversation with an agent, from the question to a terminal state.

    Await it (``await run``) to wait for the end; ``until_settled()`` also returns at a question.
    """

    def __init__(
        self,
        manager: RunManager,
        agent: Agent,
        *,
        question: str,
        space_id: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None,
        report_template: str,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._manager = manager
        self.agent = agent
        self.question = question
        self.space_id = space_id
        self.conversation_id = conversation_id
        self.agent_config: Mapping[str, Any] = dict(agent_config or {})
        self.report_template = report_template
        self.loop = loop
        self.state = RunState.RUNNING
        self.progress = ResearchProgress()
        self.chunks: list[Chunk] = []
        self.malformed: list[MalformedChunk] = []
        self.rounds: list[Round] = []
        self.exchanges: list[HitlExchange] = []
        self.pending: HitlRequest | None = None
        self.error: str | None = None
        self.cancel_reason: str | None = None
        self.abandoned = False  # the agent ignored cancellation; its task was left to finish alone
        self.started_at = datetime.now(UTC)
        self.ended_at: datetime | None = None
        self._t0 = time.perf_counter()
        self._t_end: float | None = None
        self._listeners: list[Listener] = []
        self._waiters: list[tuple[Callable[[RunState], bool], asyncio.Future[RunState]]] = []
        self.cancel_event = asyncio.Event()

    # --- reading -----------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """The run router's key, ``space_id:conversation_id``."""
        return f"{self.space_id}:{self.conversation_id}"

    @property
    def result(self) -> FinalResult | None:
        return self.progress.final_result

    @property
    def report_markdown(self) -> str:
        """The report, or what was written before the run stopped."""
        return self.progress.report_markdown()

    @property
    def elapsed_s(self) -> float:
        end = self._t_end if self._t_end is not None else time.perf_counter()
        return end - self._t0

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_event.is_set()

    def __repr__(self) -> str:
        return f"<Run {self.key} {self.state.value} chunks={len(self.chunks)}>"

    # --- steering (any thread) -----------------------------------------------------------------------

    def cancel(self) -> CancelOutcome:
        """Stop the run and clean up its session; safe from any thread."""
        return self._manager.cancel(self.conversation_id, space_id=self.space_id)

    def submit(self, answer: HitlAnswer | str | dict[str, Any]) -> None:
        """Answer the pending question and start the next round; safe from any thread.

        Raises ``RunStateError`` when the run is not waiting, ``InvalidInputError`` when the answer does
        not fit the question (the run stays paused and nothing is lost).
        """
        self._manager.submit(self.conversation_id, answer, space_id=self.space_id)

    # --- observing -----------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on the run's loop for every event from now on; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def events(self) -> AsyncGenerator[RunEvent, None]:
        """The events from this call on until the run's terminal state (the last one yielded).

        The subscription starts here, not at the first iteration, so a consumer started later as a task
        misses nothing.
        """
        queue: asyncio.Queue[RunEvent] = asyncio.Queue()
        unsubscribe = self.subscribe(queue.put_nowait)
        return self._iterate(queue, unsubscribe, done=self.state.terminal)

    @staticmethod
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
        if predicate(self.state):
            return self.state
        future: asyncio.Future[RunState] = self.loop.create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    # --- written by the manager, on the loop ---------------------------------------------------------

    def _emit(self, event: RunEvent) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # an observer's bug must not stop the run
                _log.exception("a run listener failed on %s", type(event).__name__)

    def _set_state(self, state: RunState) -> None:
        previous = self.state
        if state is previous:
            return
        self.state = state
        if state.terminal:
            self.ended_at = datetime.now(UTC)
            self._t_end = time.perf_counter()
            self.pending = None
        self._emit(StateChanged(self, state, previous))
        for predicate, future in tuple(self._waiters):
            if predicate(state) and not future.done():
                future.set_result(state)

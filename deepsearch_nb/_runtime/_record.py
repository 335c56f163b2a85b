"""The mutable record of one run, owned and written by the run manager alone.

A :class:`~deepsearch_nb.runtime.Run` is a read-only view of a record; the manager is the only writer,
always on the run's event loop. The record also keeps the run's listeners and waiters, and bounds what it
holds of the stream: a report needs the progress fold (which keeps the text), not every chunk object, so
the chunk history keeps the latest ``history_limit`` chunks (the full stream goes to the transcript).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, overload

from .._agents._base import Agent
from .._agents._usage import TokenUsage
from .._protocol import Chunk, HitlAnswer, HitlRequest, MalformedChunk, ReportTemplate, ResearchProgress, parse_chunk
from .._secrets import scrub_text, secret_needles
from ._events import AnswerBy, ChunkReceived, MalformedChunkReceived, Notice, RunEvent, StateChanged, UsageReported
from ._ledger import UsageLedger
from ._state import CancelOutcome, RunState

__all__ = ["ChunkHistory", "HitlExchange", "Listener", "Round", "RunRecord", "Steering"]

_log = logging.getLogger("deepsearch_nb.runtime")

Listener = Callable[[RunEvent], None]


@dataclass(frozen=True, slots=True)
class Round:
    """One ``agent.run`` call: what was sent, and the number of the first chunk it produced."""

    message: str
    interrupt_feedback: str
    first_chunk: int


@dataclass(frozen=True, slots=True)
class HitlExchange:
    """A question the run asked, the answer it got, and who gave it."""

    request: HitlRequest
    answer: HitlAnswer
    by: AnswerBy = AnswerBy.PERSON


class ChunkHistory(Sequence[Chunk]):
    """The latest chunks of a run, kept as their wire text and read back as :class:`Chunk` on access.

    Why text: a ``str`` is not tracked by the garbage collector, a pydantic model (with its dict and
    field set) is. Thousands of kept models were promoted to the oldest generation as a flood went
    through, and each full collection that followed paused the loop for ~25 ms, 44 times per million
    chunks (kept as text, the 1M-chunk flood's timer lateness p99 went from 29 to 12 ms). An agent's JSON text is
    kept as it came; other chunks as ``to_wire()``. The latest chunk stays an object (it is read often).
    """

    __slots__ = ("_last", "_wire")

    def __init__(self) -> None:
        self._wire: list[str] = []
        self._last: Chunk | None = None

    def append(self, chunk: Chunk, wire: str | None = None) -> None:
        self._wire.append(chunk.to_wire() if wire is None else wire)
        self._last = chunk

    def drop_oldest(self, count: int) -> None:
        del self._wire[:count]

    @overload
    def __getitem__(self, index: int) -> Chunk: ...
    @overload
    def __getitem__(self, index: slice) -> list[Chunk]: ...
    def __getitem__(self, index: int | slice) -> Chunk | list[Chunk]:
        if isinstance(index, slice):
            return [_read(wire) for wire in self._wire[index]]
        if index in (-1, len(self._wire) - 1) and self._wire and self._last is not None:
            return self._last
        return _read(self._wire[index])

    def __len__(self) -> int:
        return len(self._wire)

    def __iter__(self) -> Iterator[Chunk]:
        last = len(self._wire) - 1
        for number, wire in enumerate(self._wire):
            yield self._last if number == last and self._last is not None else _read(wire)

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, Sequence) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{len(self)} chunks>"


def _read(wire: str) -> Chunk:
    chunk = parse_chunk(wire)
    assert isinstance(chunk, Chunk), "a kept chunk was read once; it reads again"
    return chunk


class Steering(Protocol):
    """What a run asks of the manager that owns it (the manager implements this; no import back)."""

    def cancel_run(self, record: RunRecord, reason: str | None = None) -> CancelOutcome: ...

    def submit_run(self, record: RunRecord, answer: HitlAnswer | str | dict[str, Any], by: AnswerBy) -> None: ...

    def set_step_run(self, record: RunRecord, on: bool) -> None: ...


class RunRecord:
    """Everything the manager knows of one run. Written only by the manager, on ``loop``."""

    def __init__(
        self,
        agent: Agent,
        *,
        question: str,
        space_id: str,
        conversation_id: str,
        agent_config: Mapping[str, Any],
        report_template: str,
        loop: asyncio.AbstractEventLoop,
        history_limit: int,
        secrets: Sequence[str],
    ) -> None:
        self.agent = agent
        self.question = question
        self.space_id = space_id
        self.conversation_id = conversation_id
        self.key = f"{space_id}:{conversation_id}"
        self.agent_config: Mapping[str, Any] = agent_config
        self.report_template = report_template
        self.template: ReportTemplate | None = None  # what report_template is, by name and hash
        self.loop = loop
        self.secrets = tuple(s for s in secrets if s)
        self.needles = secret_needles(self.secrets)  # what a chunk must contain to need masking
        self.state = RunState.RUNNING
        self.progress = ResearchProgress()
        self.history_limit = history_limit
        self.chunks = ChunkHistory()
        self.chunks_dropped = 0  # chunks older than the history limit (counted, not kept)
        self.malformed: list[MalformedChunk] = []
        self.rounds: list[Round] = []
        self.exchanges: list[HitlExchange] = []
        self.notices: list[Notice] = []
        self.pending: HitlRequest | None = None
        self.error: str | None = None
        self.cancel_reason: str | None = None
        self.abandoned = False
        self.started_at = datetime.now(UTC)
        self.ended_at: datetime | None = None
        self.t0 = time.perf_counter()
        self.t_end: float | None = None
        self.cancel_event = asyncio.Event()
        self.listeners: list[Listener] = []
        self.waiters: list[tuple[Callable[[RunState], bool], asyncio.Future[RunState]]] = []
        self.view: Any = None  # the public Run view, set (and typed) by the manager: no import back
        self.watchdog: asyncio.TimerHandle | None = None  # the stall check of the current round
        self.stalled = False
        self.retiring: RunState | None = None  # the terminal state decided, while its cleanup runs
        self.settled_round = 0  # the number of the last round whose ending was taken
        self.step = False  # step mode: pause at every stage boundary (see _stepping)
        self.step_future: asyncio.Future[Any] | None = None  # set while the round is held at a step pause
        self.usage = UsageLedger()  # LLM tokens per stage, as the agent reported them (see _budget)
        self.budget: Any = None  # the run's Budget when research(budget_...) set one
        self.budget_watch: Any = None
        self.budget_reached: str | None = None  # what ran out, when the budget ended the run

    @property
    def chunk_total(self) -> int:
        return self.chunks_dropped + len(self.chunks)

    def keep(self, chunk: Chunk, wire: str | None = None) -> None:
        """Append to the history; past the limit, drop the older half at once (amortised O(1))."""
        chunks = self.chunks
        chunks.append(chunk, wire)
        if len(chunks) > self.history_limit:
            drop = len(chunks) - self.history_limit // 2
            chunks.drop_oldest(drop)
            self.chunks_dropped += drop

    def take(self, raw: Any) -> HitlRequest | None:
        """Read one raw chunk from the agent; returns the question when it was an interrupt.

        A run that knows secrets checks each chunk for them: an agent that echoes its key in a chunk (an
        LLM error in a section's text) must not carry it to a panel, a server's stream or a transcript. The
        check is a few substring searches; the full scrub runs only on a chunk that contains a secret.
        """
        parsed = parse_chunk(raw)
        if isinstance(parsed, MalformedChunk):
            self.keep_malformed(parsed)
            self.progress.malformed += 1
            self.emit(MalformedChunkReceived(parsed))
            return None
        wire = raw if type(raw) is str else None
        if self.needles:
            text = wire if wire is not None else parsed.to_wire()
            scrubbed = scrub_text(text, self.secrets) if any(n in text for n in self.needles) else text
            if scrubbed != text:
                again = parse_chunk(scrubbed)
                if isinstance(again, Chunk):
                    parsed, wire = again, scrubbed
        return self.record_chunk(parsed, wire)

    def record_chunk(self, chunk: Chunk, wire: str | None = None) -> HitlRequest | None:
        """Keep, fold and announce a chunk (the agent's, or the runtime's own cancel chunk)."""
        self.keep(chunk, wire)
        update = self.progress.feed(chunk)
        self.emit(ChunkReceived(chunk, update))
        return update.request

    def keep_malformed(self, malformed: MalformedChunk) -> None:
        self.malformed.append(malformed)
        if len(self.malformed) > self.history_limit:
            del self.malformed[: len(self.malformed) - self.history_limit // 2]

    def emit(self, event: RunEvent) -> None:
        for listener in tuple(self.listeners):
            try:
                listener(event)
            except Exception:  # an observer's bug must not stop the run
                _log.exception("a run listener failed on %s", type(event).__name__)

    def add_usage(self, usage: TokenUsage) -> None:
        """The agent's usage sink (``usage_context``): any thread; applied and announced on the run's loop."""
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is not self.loop:
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self.add_usage, usage)
            return
        self.usage.live = True
        self.usage.add(usage)
        self.emit(UsageReported(usage, self.usage.total))

    def notice(self, notice: Notice) -> None:
        """Keep and announce a notice, masked: its text may quote the agent's own error."""
        if self.secrets:
            notice = Notice(notice.kind, scrub_text(notice.message, list(self.secrets)))
        self.notices.append(notice)
        self.emit(notice)

    def set_state(self, state: RunState) -> None:
        previous = self.state
        if state is previous:
            return
        self.state = state
        if state.terminal:
            self.ended_at = datetime.now(UTC)
            self.t_end = time.perf_counter()
            self.pending = None
        self.emit(StateChanged(state, previous))
        for predicate, future in tuple(self.waiters):
            if predicate(state) and not future.done():
                future.set_result(state)

"""The scripted fake agent: one script per round, with steps that pause, hang, raise or ignore cancel."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._agents._base import cancel_context
from .._agents._replay import ReplayAgent
from .._agents._usage import report_usage

if TYPE_CHECKING:
    from ..runtime import Run

__all__ = [
    "AgentCall",
    "Hang",
    "HangingCloseStream",
    "IgnoreCancel",
    "Pause",
    "Raise",
    "ScriptedAgent",
    "UnprintableError",
    "Usage",
    "WaitFor",
    "until_chunks",
]


@dataclass(frozen=True)
class Pause:
    """Sleep between chunks (a cancellable await)."""

    seconds: float


@dataclass(frozen=True)
class Raise:
    """Raise this exception from inside the agent."""

    error: BaseException


@dataclass(frozen=True)
class Hang:
    """Never yield again (until cancelled)."""


@dataclass(frozen=True)
class WaitFor:
    """Wait until the test sets the event (to act at an exact point of the stream)."""

    event: asyncio.Event


@dataclass(frozen=True)
class Usage:
    """Report an LLM call's tokens, as an agent that sees its endpoint's usage does (``report_usage``)."""

    stage: str
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class IgnoreCancel:
    """Swallow every cancellation until ``release`` is set (or ``max_s`` passes): a badly written agent."""

    release: asyncio.Event
    max_s: float = 30.0


class UnprintableError(Exception):
    """An exception whose text cannot be read (a C extension's, or a buggy ``__str__``)."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")


class HangingCloseStream:
    """A hand-written async iterator of ``items`` whose ``aclose()`` never returns (a misbehaving agent)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._items: Iterator[Any] = iter(items)

    def __aiter__(self) -> HangingCloseStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await asyncio.Event().wait()


@dataclass(frozen=True)
class AgentCall:
    """One ``run`` call the fake received."""

    message: str
    conversation_id: str
    agent_config: Mapping[str, Any] | None
    report_template: str
    interrupt_feedback: str


class ScriptedAgent(ReplayAgent):
    """An agent that plays one script per ``run`` call and records what it was asked."""

    kind = "fake"

    def __init__(self, *rounds: Sequence[Any], pacing: float = 0.0) -> None:
        super().__init__(rounds, pacing=pacing)
        self.calls: list[AgentCall] = []  # every run() call, in order
        self.cleaned: list[str] = []  # conversation ids passed to cleanup_session
        self.tasks_cancelled: list[str] = []  # conversation ids passed to cancel_tasks
        self.closed_streams = 0  # how many rounds ended through aclose()/cancellation
        # Items yielded per conversation while the run's cancel event was not set. Nothing suspends between
        # such a yield and the producer's own cancel check, so each must reach the run (kept or counted).
        self.delivered: collections.Counter[str] = collections.Counter()

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[Any]:
        self.calls.append(AgentCall(message, conversation_id, agent_config, report_template, interrupt_feedback))
        event = cancel_context.get()
        try:
            async for item in super().run(message, conversation_id, agent_config, report_template, interrupt_feedback):
                if event is None or not event.is_set():
                    self.delivered[conversation_id] += 1
                yield item
        except (GeneratorExit, asyncio.CancelledError):
            self.closed_streams += 1
            raise

    async def _play(self, step: Any, conversation_id: str) -> AsyncIterator[Any]:
        if isinstance(step, Pause):
            await asyncio.sleep(step.seconds)
        elif isinstance(step, Raise):
            raise step.error
        elif isinstance(step, Hang):
            await asyncio.Event().wait()
        elif isinstance(step, WaitFor):
            await step.event.wait()
        elif isinstance(step, Usage):
            report_usage(step.stage, step.input_tokens, step.output_tokens)
        elif isinstance(step, IgnoreCancel):
            deadline = time.monotonic() + step.max_s
            while not step.release.is_set() and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(step.release.wait(), 0.05)
                except (TimeoutError, asyncio.CancelledError):  # swallowed on purpose
                    continue
        else:
            yield step  # anything else is replayed as a (malformed) chunk

    async def cleanup_session(self, conversation_id: str) -> None:
        self.cleaned.append(conversation_id)
        await super().cleanup_session(conversation_id)

    async def cancel_tasks(self, conversation_id: str) -> None:
        self.tasks_cancelled.append(conversation_id)


async def until_chunks(run: Run, count: int, timeout: float = 5.0) -> None:
    """Wait until ``run`` has received ``count`` chunks (to act at a known point of its stream)."""
    reached = asyncio.Event()

    def check(_event: object = None) -> None:
        if len(run.chunks) >= count:
            reached.set()

    unsubscribe = run.subscribe(check)
    check()
    try:
        await asyncio.wait_for(reached.wait(), timeout)
    finally:
        unsubscribe()

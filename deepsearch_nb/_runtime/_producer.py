"""One round: iterate the agent in its own task, with the run's cancel event in its context.

Every wait on the agent is bounded and reported when it runs out, so no agent can keep a run RUNNING or a
task alive forever by misbehaving at its end:

* after the chunk that ends the round (an interrupt, or ALL END) the stream is iterated on until it ends
  by itself, for at most ``end_grace_s``: an agent like the openJiuwen SDK saves its checkpoint after it
  yields the interrupt, so a round is over (and the run WAITING) only once that save has happened;
* ``aclose()`` gets ``close_grace_s``;
* an error after the ending chunk is a notice (an unclean end), not a failure of a finished report;
* those bounds cancel the agent's await, which an agent may swallow: so a timer also fires once both
  graces (and one more) have passed after the ending chunk, and the lifecycle then settles the round
  from what was read and leaves the agent's task to finish alone (``overran``). The stream itself is
  iterated in this one task throughout (an agent's cancel scopes and task groups stay in their task).

A flood of chunks from an agent that never suspends would starve the event loop (widget clicks, timers):
the producer yields to the loop once a slice of continuous work (about a millisecond) has passed, in every
loop that reads the stream (also after the ending chunk, whose grace is a timer that needs a turn). Why so
short: a timer that falls due is woken two loop turns later (its callback sets the sleeper's future, whose
task then runs on the next turn), so a sleeper waits for up to three slices; a slice of S ms of CPU
becomes several times S of wall time on a loaded machine.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .._agents._base import cancel_context
from .._agents._stepping import StepHook, step_context
from .._agents._usage import usage_context
from .._protocol import Chunk, HitlRequest, parse_chunk
from .._protocol._step import StepAction, StepPoint
from .._secrets import describe_exception, scrub_text
from ._events import Notice, NoticeKind
from ._record import RunRecord
from ._stepping import StreamSteps, reports_step_points

__all__ = ["Ending", "Limits", "Outcome", "produce"]

_log = logging.getLogger("deepsearch_nb.runtime")
_BREATHE_EVERY = 16  # chunks between two looks at the clock (a chunk costs ~5-15 µs, a look ~0.1 µs)
_BREATHE_AFTER_S = 0.001  # continuous work after which the loop gets a turn
_clock = time.perf_counter  # the slice's clock (a test makes each chunk cost a known time)
_OVERRUN_S = 0.5  # past both graces: the agent swallowed their cancel


@dataclass(frozen=True, slots=True)
class Limits:
    end_grace_s: float  # how long a stream may go on after its ending chunk
    close_grace_s: float  # how long aclose() may take


class Ending(Enum):
    PAUSED = "paused"  # an interrupt: the run waits for an answer
    ENDED = "ended"  # the stream is over (ALL END or not: the manager decides what it means)
    FAILED = "failed"  # the agent raised before its ending chunk
    CANCELLED = "cancelled"  # the cancel event was set meanwhile
    INTERRUPTED = "interrupted"  # KeyboardInterrupt / SystemExit inside the agent (a kernel interrupt)


@dataclass(frozen=True, slots=True)
class Outcome:
    ending: Ending
    request: HitlRequest | None = None
    error: str | None = None


async def produce(
    record: RunRecord,
    message: str,
    feedback: str,
    limits: Limits,
    overran: Callable[[Outcome], None],
    pause: Callable[[RunRecord, StepPoint], Awaitable[StepAction]] | None = None,
) -> Outcome:
    """Run one round of ``record``'s agent to its ending; cancellation propagates as ``CancelledError``.

    ``overran`` is called (from a timer, with the round's outcome) when the agent keeps its task busy
    past every grace after the ending chunk; this coroutine then returns whenever the agent lets it.
    ``pause`` is the manager's step pause (step mode): given to the agent as its step hook, or applied
    between two chunks of the stream of an agent that reports no step points.
    """
    token = cancel_context.set(record.cancel_event)  # before the first iteration, as the SDK needs
    hook: StepHook | None = None if pause is None else _Hook(record, pause)
    step_token = step_context.set(hook)
    usage_token = usage_context.set(record.add_usage)
    stream: Any = None
    stop: HitlRequest | bool | None = None  # the interrupt's question, True for ALL END
    deadline: asyncio.TimerHandle | None = None
    try:
        stream = record.agent.run(
            message, record.conversation_id, record.agent_config, record.report_template, feedback
        )
        if not hasattr(stream, "__anext__"):
            return Outcome(
                Ending.FAILED,
                error=f"agent.run() returned a {type(stream).__name__}, not an async iterator of chunks "
                "(write it as an `async def` with `yield`).",
            )
        held = hook is not None and record.step and not reports_step_points(record)
        stop = await (_read_stepping(record, stream, hook) if held and hook is not None else _read(record, stream))
        if record.cancel_event.is_set():
            return Outcome(Ending.CANCELLED)
        if stop is not None:
            deadline = _hard_deadline(record, stop, limits, overran)
            await _finish(record, stream, limits.end_grace_s)
    except asyncio.CancelledError:
        raise
    except (KeyboardInterrupt, SystemExit) as exc:
        return Outcome(Ending.INTERRUPTED, error=f"interrupted ({type(exc).__name__})")
    except Exception as exc:
        if stop is None:
            return Outcome(Ending.FAILED, error=f"The agent failed: {describe_exception(exc)}")
        record.notice(
            Notice(NoticeKind.UNCLEAN_END, f"The agent raised after its last chunk: {describe_exception(exc)}")
        )
    finally:
        if stream is not None:
            await _close(record, stream, limits.close_grace_s)
        if deadline is not None:
            deadline.cancel()
        step_context.reset(step_token)
        usage_context.reset(usage_token)
        cancel_context.reset(token)
    if record.cancel_event.is_set():
        return Outcome(Ending.CANCELLED)
    if isinstance(stop, HitlRequest):
        return Outcome(Ending.PAUSED, request=stop)
    return Outcome(Ending.ENDED)


class _Hook:
    """The step hook of one round: ``active`` follows the run's step mode (it can change mid-round)."""

    __slots__ = ("_pause", "_record")

    def __init__(self, record: RunRecord, pause: Callable[[RunRecord, StepPoint], Awaitable[StepAction]]) -> None:
        self._record = record
        self._pause = pause

    @property
    def active(self) -> bool:
        return self._record.step

    def __call__(self, point: StepPoint) -> Awaitable[StepAction]:
        return self._pause(self._record, point)


def _hard_deadline(
    record: RunRecord, stop: HitlRequest | bool, limits: Limits, overran: Callable[[Outcome], None]
) -> asyncio.TimerHandle:
    outcome = Outcome(Ending.PAUSED, request=stop) if isinstance(stop, HitlRequest) else Outcome(Ending.ENDED)
    limit = limits.end_grace_s + limits.close_grace_s + _OVERRUN_S

    def fire() -> None:
        if record.cancel_event.is_set():
            return  # the cancel path has the run (and abandons the task after its own grace)
        record.notice(
            Notice(
                NoticeKind.UNCLEAN_END,
                f"The agent did not let its stream end or close within {limit:g} s after its last chunk "
                "(it ignored the cancel); its task was left to finish alone and may still be working.",
            )
        )
        overran(outcome)

    return asyncio.get_running_loop().call_later(limit, fire)


async def _read(record: RunRecord, stream: AsyncIterator[Any]) -> HitlRequest | bool | None:
    """Chunks up to the one that ends the round; None when the stream ended without one."""
    breath = _Breath()
    progress = record.progress
    cancel = record.cancel_event
    async for raw in stream:
        if cancel.is_set():
            return None  # late chunks after a cancel are dropped
        request = record.take(raw)
        if request is not None:
            return request
        if progress.all_end:
            return True
        if breath.due():
            await breath.take()
    return None


async def _read_stepping(record: RunRecord, stream: AsyncIterator[Any], hook: StepHook) -> HitlRequest | bool | None:
    """:func:`_read` for a stepped run of an agent without step points: held between two chunks.

    Step mode is read at the start of the round and on each chunk: "Run to end" goes on unheld.
    """
    rules = StreamSteps(record.progress)
    progress = record.progress
    cancel = record.cancel_event
    breath = _Breath()  # after "Run to end" the rest of the stream goes unheld: still in slices
    async for raw in stream:
        if cancel.is_set():
            return None
        parsed = parse_chunk(raw) if record.step else None
        if isinstance(parsed, Chunk):
            point = rules.before(parsed)
            if point is not None:
                await hook(point)
                if cancel.is_set():
                    return None
        request = record.take(raw)
        if request is not None:
            return request
        if progress.all_end:
            return True
        if isinstance(parsed, Chunk) and record.step:
            point = rules.after(parsed)
            if point is not None:
                await hook(point)
                breath.taken()
                continue
        if breath.due():
            await breath.take()
    return None


class _Breath:
    """When a stream read without suspending has worked for a slice: then the loop gets a turn.

    ``due()`` is called once per chunk and looks at the clock every ``_BREATHE_EVERY`` chunks only.
    """

    __slots__ = ("_count", "_since")

    def __init__(self) -> None:
        self._count = 0
        self._since = _clock()

    def due(self) -> bool:
        self._count += 1
        return self._count % _BREATHE_EVERY == 0 and _clock() - self._since > _BREATHE_AFTER_S

    def taken(self) -> None:
        """The loop had a turn anyway (the round was held at a step pause): a new slice starts."""
        self._since = _clock()

    async def take(self) -> None:
        await asyncio.sleep(0)
        self._since = _clock()


async def _finish(record: RunRecord, stream: AsyncIterator[Any], grace_s: float) -> None:
    """Let the stream end by itself after its ending chunk (late chunks are kept), for at most ``grace_s``."""
    breath = _Breath()  # the grace is a timer: it can fire only when the loop gets a turn
    try:
        async with asyncio.timeout(grace_s):
            async for raw in stream:
                if record.cancel_event.is_set():
                    return
                record.take(raw)  # a second interrupt in the same round is not a new question
                if breath.due():
                    await breath.take()
    except TimeoutError:
        record.notice(
            Notice(
                NoticeKind.UNCLEAN_END,
                f"The agent's stream did not end within {grace_s:g} s after its last chunk; it was closed.",
            )
        )


async def _close(record: RunRecord, stream: Any, grace_s: float) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is None:
        return
    try:
        async with asyncio.timeout(grace_s):
            await aclose()
    except TimeoutError:
        record.notice(
            Notice(NoticeKind.UNCLEAN_END, f"Closing the agent's stream took more than {grace_s:g} s; it was left.")
        )
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        _log.debug("closing an agent stream of %s raised CancelledError", record.key)
    except Exception as exc:  # a generator that misbehaves while closing; its text may echo a key
        _log.debug(
            "closing an agent stream of %s failed: %s",
            record.key,
            scrub_text(describe_exception(exc), list(record.secrets)),
        )

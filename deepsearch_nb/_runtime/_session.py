"""The session driver: who answers each stop of a run, used by ``research()``, the CLI and the magic alike.

At each question, in this order: the scripted answers (``answers=``, the CLI's ``--answer``); else an
asker (the CLI's terminal prompt); else a person who answers elsewhere (the panel, ``handle.submit``),
waited for up to the answer timeout. A timeout cancels the run and raises :class:`HitlTimeout` with what
to do. The driver listens to the run's events: it wakes when a question arrives, when the run moves on,
and when :meth:`Session.wake` says the timeout policy may have changed (a browser began to show the panel).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Final

from .._errors import DeepSearchError, HitlTimeout, InvalidInputError
from .._protocol import HitlAnswer, HitlRequest
from ._answers import Answers, ScriptedAnswers
from ._events import AnswerBy, HitlRequested, RunEvent, StateChanged
from ._run import Run
from ._state import RunState

__all__ = ["AnswerTimeout", "Asker", "Session", "drive"]

Asker = Callable[[HitlRequest, str | None], Awaitable[HitlAnswer | None]]
"""Asks a person for an answer (the CLI's prompt). The second argument says why the previous answer was
refused (``None`` the first time); ``None`` back means nobody can answer."""

AnswerTimeout = float | Callable[[], float | None] | None
"""Seconds to wait for a person at each stop; ``None`` waits forever; a callable is asked again on every
wake (the panel's ``"auto"``: forever once a browser shows the panel, a few seconds otherwise)."""

TimeoutMessage = Callable[[HitlRequest, float], str]

_WAKE: Final = object()


def _default_message(request: HitlRequest, limit: float) -> str:
    asked = (request.questions or request.prompt).strip().replace("\n", " ")
    asked = asked if len(asked) <= 160 else asked[:157] + "..."
    return (
        f"No answer to the {request.stage.value} question within {limit:g} s. The agent asked: {asked!r}. "
        "Give scripted answers, e.g. answers=['your clarification', 'accept'], or wait longer."
    )


class Session:
    """Drives one run to its end, answering its questions (see the module docstring for the order)."""

    def __init__(
        self,
        run: Run,
        *,
        answers: ScriptedAnswers | Answers | None = None,
        ask: Asker | None = None,
        timeout: AnswerTimeout = None,
        timeout_message: TimeoutMessage = _default_message,
    ) -> None:
        self.run = run
        self.answers = answers if isinstance(answers, ScriptedAnswers) else ScriptedAnswers(answers)
        self.ask = ask
        self.timeout = timeout
        self.timeout_message = timeout_message
        self._queue: asyncio.Queue[RunEvent | object] = asyncio.Queue()

    def wake(self) -> None:
        """The timeout policy may have changed (safe from the run's loop only)."""
        self._queue.put_nowait(_WAKE)

    async def drive(self) -> Run:
        """Answer every stop until the run ends; returns the run.

        Raises :class:`HitlTimeout` when nobody answered in time and :class:`InvalidInputError` when a
        scripted answer does not fit its question; the run is cancelled first, so nothing is left waiting.
        """
        run = self.run
        unsubscribe = run.subscribe(self._queue.put_nowait)
        try:
            if run.state is RunState.WAITING_USER_INPUT and run.pending is not None:
                await self._answer(run.pending)
            while not run.state.terminal:
                event = await self._queue.get()
                if isinstance(event, HitlRequested) and run.pending is event.request:
                    await self._answer(event.request)
        except asyncio.CancelledError:
            await self._stop("the notebook stopped the run's task")
            raise
        except DeepSearchError as exc:
            await self._stop(_reason(exc))
            raise
        finally:
            unsubscribe()
        return run

    async def _answer(self, request: HitlRequest) -> None:
        scripted = self.answers.next_for(request.stage)
        if scripted is not None:
            try:
                self.run.submit(scripted, by=AnswerBy.SCRIPTED)
            except InvalidInputError as exc:
                raise InvalidInputError(
                    f"The scripted answer {scripted.feedback.value!r} {scripted.message[:80]!r} does not fit the "
                    f"{request.stage.value} question: {exc}"
                ) from None
            return
        if self.ask is not None and await self._ask(request):
            return
        await self._wait_for_person(request)

    async def _ask(self, request: HitlRequest) -> bool:
        """Ask until an answer fits; False when the asker has none (then a person or the timeout decides)."""
        problem: str | None = None
        assert self.ask is not None
        while self._still_waiting(request):
            answer = await self.ask(request, problem)
            if answer is None:
                return False
            if not self._still_waiting(request):
                return True  # cancelled or answered elsewhere meanwhile
            try:
                self.run.submit(answer, by=AnswerBy.PERSON)
            except InvalidInputError as exc:  # a bad answer keeps the run paused: say so and ask again
                problem = str(exc)
                continue
            return True
        return True

    async def _wait_for_person(self, request: HitlRequest) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while self._still_waiting(request):
            limit = self.timeout() if callable(self.timeout) else self.timeout
            if limit is None:
                await self._queue.get()
                continue
            remaining = started + float(limit) - loop.time()
            if remaining <= 0:
                raise HitlTimeout(self.timeout_message(request, float(limit)))
            with contextlib.suppress(TimeoutError):
                event = await asyncio.wait_for(self._queue.get(), remaining)
                if isinstance(event, StateChanged) and event.state.terminal:
                    return

    def _still_waiting(self, request: HitlRequest) -> bool:
        return self.run.state is RunState.WAITING_USER_INPUT and self.run.pending is request

    async def _stop(self, reason: str) -> None:
        run = self.run
        if run.state.terminal:
            return
        if not run.cancel_requested:
            run.cancel(reason)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(run.wait()), 10)


async def drive(
    run: Run,
    *,
    answers: ScriptedAnswers | Answers | None = None,
    ask: Asker | None = None,
    timeout: AnswerTimeout = None,
) -> Run:
    """Drive ``run`` to its end with a :class:`Session` (scripted answers, then ``ask``, then a person)."""
    return await Session(run, answers=answers, ask=ask, timeout=timeout).drive()


def _reason(exc: DeepSearchError) -> str:
    if isinstance(exc, HitlTimeout):
        return "no answer to its question arrived in time (headless run)"
    return f"{type(exc).__name__}: {exc}"

"""A run's LLM usage and its budget: tokens in and out per stage, and a limit the agent cannot overrun.

Usage reaches the run two ways: live, from agents that call ``report_usage`` after each LLM response
(the local agent's LLM writer), and at the end, from the ``workflow_llm_token_usage`` of a final result
(the openJiuwen SDK's per-agent totals of its model client's usage), taken only when nothing was
reported live, so nothing is counted twice.

A budget (``tokens`` in plus out, ``seconds`` of running time: a run waiting for a person's answer is
not spending) is watched here, in the runtime, not in a panel: when it is reached the run is cancelled
through the normal cancel path (``Run.cancel``) with the reason "budget reached: ...", so the agent
stops, its session is cleaned up, the partial report is kept and the manager goes idle, exactly as after
a click on Cancel. A token budget is checked after each reported call: the call that crosses it has
already been paid for, but no further call starts.
"""

from __future__ import annotations

import asyncio
import math
import threading
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigurationError
from ._events import StateChanged, UsageReported
from ._ledger import UsageLedger
from ._run import Run
from ._state import RunState

__all__ = ["BUDGET_REASON", "Budget", "watch_budget"]

BUDGET_REASON = "budget reached"


@dataclass(frozen=True, slots=True)
class Budget:
    """At most ``tokens`` LLM tokens (in plus out) and ``seconds`` of running time; None: no limit."""

    tokens: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.tokens is not None and (isinstance(self.tokens, bool) or not isinstance(self.tokens, int)):
            raise ConfigurationError(f"budget_tokens must be a whole number of tokens, not {self.tokens!r}.")
        if self.tokens is not None and self.tokens < 0:
            raise ConfigurationError(f"budget_tokens must be 0 or more, not {self.tokens}.")
        seconds = self.seconds
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise ConfigurationError(f"budget_s must be a number of seconds, 0 or more, not {seconds!r}.")

    @property
    def limited(self) -> bool:
        return self.tokens is not None or self.seconds is not None

    def to_json(self, reached: str | None = None) -> dict[str, Any]:
        return {"tokens": self.tokens, "seconds": self.seconds, "reached": reached}


class _Watch:
    """Cancels one run when its budget is reached; lives as long as the run's subscription."""

    def __init__(self, run: Run, budget: Budget, ledger: UsageLedger) -> None:
        self.run, self.budget, self.ledger = run, budget, ledger
        self.spent_s = 0.0
        self.since: float | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.reached: str | None = None
        self.lock = threading.Lock()

    def __call__(self, event: object) -> None:
        if isinstance(event, UsageReported):
            tokens = self.budget.tokens
            if tokens is not None and self.ledger.total >= tokens and self.ledger.total > 0:
                self.stop(f"{self.ledger.total:,} tokens used of {tokens:,}")
        elif isinstance(event, StateChanged):
            if event.state is RunState.RUNNING:
                self.arm()
            else:
                self.disarm()

    def arm(self) -> None:
        if self.budget.seconds is None or self.timer is not None or self.reached:
            return
        loop = self.run.loop
        self.since = loop.time()
        left = max(self.budget.seconds - self.spent_s, 0.0)
        self.timer = loop.call_later(left, lambda: self.stop(f"{self.budget.seconds:g} s of running time"))

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.since is not None:
            self.spent_s += self.run.loop.time() - self.since
            self.since = None

    def stop(self, what: str) -> None:
        with self.lock:
            if self.reached or self.run.state.terminal:
                return
            self.reached = what
        self.run._record.budget_reached = what
        self.disarm()
        # Not from inside the listener (it runs in the agent's own task): on the loop's next turn.
        self.run.loop.call_soon(self.run.cancel, f"{BUDGET_REASON}: {what}")


def watch_budget(run: Run, budget: Budget) -> Budget:
    """Cancel ``run`` (reason "budget reached: ...") once it has used ``budget.tokens`` LLM tokens or run
    for ``budget.seconds``; call on the run's loop right after starting it. The report records it."""
    record = run._record  # the runtime's own record: usage and budget live beside the run's state
    record.budget = budget
    if not budget.limited:
        return budget
    watch = _Watch(run, budget, record.usage)
    record.budget_watch = watch
    run.subscribe(watch)
    if run.state is RunState.RUNNING:
        watch.arm()
    return budget

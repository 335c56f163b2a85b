"""How an agent says what its LLM calls cost: tokens in and out, per stage, as the endpoint reported them.

The runtime sets a sink in :data:`usage_context` in the task that iterates the agent (as it sets the cancel
event), so an agent calls :func:`report_usage` after each LLM response that carried usage and needs no
reference to the run. The counts are the endpoint's own (``usage.prompt_tokens`` /
``usage.completion_tokens``), never estimated: a run whose endpoint reports nothing shows nothing.
The sink may be called from another thread (an SDK's worker): the runtime hops onto the run's loop.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TokenUsage", "report_usage", "usage_context"]


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """The tokens of one LLM call (or of ``calls`` calls summed), under the stage that made it."""

    stage: str
    input_tokens: int
    output_tokens: int
    calls: int = 1
    model: str = ""

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


usage_context: contextvars.ContextVar[Callable[[TokenUsage], None] | None] = contextvars.ContextVar(
    "deepsearch_nb_usage_sink", default=None
)
"""Where the run being iterated in this context takes usage reports (None outside a run)."""


def report_usage(stage: str, input_tokens: int, output_tokens: int, *, calls: int = 1, model: str = "") -> None:
    """Record the tokens of an LLM call with the run this code runs in (nothing outside a run)."""
    sink = usage_context.get()
    if sink is not None:
        sink(TokenUsage(str(stage), max(int(input_tokens), 0), max(int(output_tokens), 0), max(int(calls), 0), model))

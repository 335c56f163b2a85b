"""Checking what a caller hands the run manager, and the manager's bookkeeping figures.

Every public entry point checks its arguments' types and says what to fix: a raw ``TypeError`` from deep
inside the runtime tells a notebook user nothing.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass

from .._agents._base import Agent, SupportsSecrets
from .._errors import ConfigurationError, InvalidInputError
from .._protocol import check_conversation_id, check_space_id, new_conversation_id
from .._protocol._template import ReportTemplate
from .._protocol._text import repair_text
from .._secrets import secret_values
from ._record import RunRecord

__all__ = ["ManagerStats", "check_count", "check_seconds", "new_record"]


@dataclass(frozen=True, slots=True)
class ManagerStats:
    """A manager's bookkeeping, so tests and benchmarks can prove nothing leaks."""

    live_runs: int  # runs that are RUNNING or WAITING_USER_INPUT
    running_tasks: int  # producer tasks (one per streaming round)
    paused_sessions: int  # runs waiting for an answer (bounded by hitl_capacity)
    cancel_events: int  # cancel events of live runs
    cancelled_keys: int  # keys that answer a new request with a cancel chunk (bounded by hitl_capacity)
    abandoned_tasks: int  # agent tasks that ignored cancellation and are still running
    internal_tasks: int  # cancel finishers and session cleanups under way
    cached_agents: int  # distinct agent objects held by live runs
    step_pauses: int = 0  # paused runs held at a step pause of step mode (also in paused_sessions)

    @property
    def is_idle(self) -> bool:
        """Nothing runs, waits or is being cleaned up (cancelled keys are bounded, so not counted)."""
        return not (
            self.live_runs
            or self.running_tasks
            or self.paused_sessions
            or self.cancel_events
            or self.abandoned_tasks
            or self.internal_tasks
        )


def check_count(name: str, value: object, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be a whole number (at least {minimum}), not {value!r}.")
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {value}.")
    return value


def check_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(f"{name} must be a number of seconds (0 or more), not {value!r}.")
    if value < 0:
        raise ConfigurationError(f"{name} must be 0 or more seconds, not {value}.")
    return float(value)


def new_record(
    agent: Agent,
    question: object,
    *,
    conversation_id: object,
    space_id: object,
    agent_config: object,
    report_template: object,
    loop: asyncio.AbstractEventLoop,
    history_limit: int,
) -> RunRecord:
    """A checked record for a new run (its secrets gathered from the config and the agent)."""
    if not callable(getattr(agent, "run", None)):
        raise ConfigurationError(
            "agent must be an Agent (an object with an async run(message, conversation_id, ...) method), "
            f"not {type(agent).__name__}."
        )
    if not isinstance(question, str) or not question.strip():
        raise InvalidInputError("The question is empty: give the agent something to research.")
    if agent_config is not None and not isinstance(agent_config, Mapping):
        raise ConfigurationError(
            "agent_config must be a dict of settings (e.g. {'outliner_max_section_num': 4}), "
            f"not {type(agent_config).__name__}."
        )
    template = report_template if isinstance(report_template, ReportTemplate) else None
    if template is not None:
        report_template = template.markdown
    if not isinstance(report_template, str):
        raise ConfigurationError(f"report_template must be text, not {type(report_template).__name__}.")
    if template is None and report_template.strip():  # text from a caller: recorded as given
        template = ReportTemplate.from_text(report_template)
    conversation = new_conversation_id() if conversation_id is None else check_conversation_id(conversation_id)
    config = dict(agent_config or {})
    secrets = list(secret_values(config))
    if isinstance(agent, SupportsSecrets):
        secrets += [s for s in agent.secret_values() if isinstance(s, str)]
    record = RunRecord(
        agent,
        question=repair_text(question),  # text entering the system: lone surrogates -> U+FFFD
        space_id=check_space_id(space_id),
        conversation_id=conversation,
        agent_config=config,
        report_template=report_template,
        loop=loop,
        history_limit=history_limit,
        secrets=secrets,
    )
    record.template = template
    return record

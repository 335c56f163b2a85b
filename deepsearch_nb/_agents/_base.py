"""The one seam between the runtime and every research agent.

An agent is anything with the openJiuwen ``run`` signature that yields chunks (JSON strings or dicts).
Cancellation is cooperative first: the runtime sets an ``asyncio.Event`` in :data:`cancel_context` in the
task that iterates the agent, before the first iteration, exactly as the DeepSearch server does; agents
check it at their own boundaries (:func:`raise_if_cancelled`). The runtime also cancels the task, so an
agent that never checks still stops at its next ``await``.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol, TypedDict, runtime_checkable

__all__ = [
    "Agent",
    "AgentSpec",
    "ChunkLike",
    "SupportsSecrets",
    "SupportsSessionCleanup",
    "SupportsSpec",
    "SupportsTaskCancel",
    "cancel_context",
    "raise_if_cancelled",
]

ChunkLike = str | Mapping[str, Any]

cancel_context: contextvars.ContextVar[asyncio.Event | None] = contextvars.ContextVar(
    "deepsearch_nb_cancel_event", default=None
)
"""The cancel event of the run being iterated in this context (None outside a run)."""


def raise_if_cancelled() -> None:
    """Raise ``CancelledError`` if this run's cancel event is set (the SDK's ``_raise_if_cancelled``)."""
    event = cancel_context.get()
    if event is not None and event.is_set():
        raise asyncio.CancelledError("cancelled")


@runtime_checkable
class Agent(Protocol):
    """A research agent: one ``run`` call is one round of a conversation.

    A round ends after an interrupt chunk (the run waits for a person) or after ``ALL END``. Resuming is a
    new call with the same ``conversation_id`` and a non-empty ``interrupt_feedback``.
    """

    def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[ChunkLike]:
        """Stream the chunks of one round."""
        ...


@runtime_checkable
class SupportsSessionCleanup(Protocol):
    """An agent that keeps per-conversation state (a checkpointer) that must be released."""

    async def cleanup_session(self, conversation_id: str) -> None:
        """Forget the conversation; must work for an unknown id."""
        ...


@runtime_checkable
class SupportsTaskCancel(Protocol):
    """An agent with controller-level tasks of its own that a cancel must stop too."""

    async def cancel_tasks(self, conversation_id: str) -> None:
        """Cancel whatever the agent runs for the conversation outside the iterating task."""
        ...


@runtime_checkable
class SupportsSecrets(Protocol):
    """An agent that holds keys of its own (an LLM key, a search key, a bearer token).

    The runtime asks for them so that an error, a transcript or a report that echoes one is scrubbed:
    the run's ``agent_config`` is not the only place a key can enter.
    """

    def secret_values(self) -> Sequence[str]:
        """Every secret string the agent holds (empty strings are ignored)."""
        ...


class AgentSpec(TypedDict):
    """What a report records of its agent, enough to rebuild it: the kind and its config, secrets redacted."""

    kind: str
    config: dict[str, Any]


@runtime_checkable
class SupportsSpec(Protocol):
    """An agent that can describe itself so that ``reproduce()`` rebuilds the same agent."""

    def spec(self) -> AgentSpec:
        """The agent's kind and whole config, with secrets replaced by ``"***"`` (never the keys)."""
        ...

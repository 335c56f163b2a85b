"""What a paused conversation leaves in Redis for the other workers, and the agent wrapper that uses it.

A :class:`ConversationRecord` is written when a run pauses at a question, before the client sees the
question, so that any worker can take the answer: the question, the answers so far, the pending request
(to check the answer the way the holding worker would), the run's ``agent_config`` without its keys, the
worker that holds the run and an ``epoch`` (one more at every pause) that tells a stale holder from the
current one. The agent's own state (the local agent's session) is kept beside it by the agent's store.

:class:`ServedAgent` wraps the agent of each run the server starts: a run that continues a conversation
paused on another worker begins with the resume (the run manager's first round is always ``run(question,
feedback="")``, so the wrapper turns that call into ``run(answer, feedback=...)``), and a run handed over
to another worker must not clean up the session the other worker now uses.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .._agents._base import (
    Agent,
    AgentSpec,
    ChunkLike,
    SupportsSecrets,
    SupportsSessionCleanup,
    SupportsSpec,
    SupportsTaskCancel,
)
from .._errors import AgentError
from .._protocol import HitlAnswer, HitlRequest

__all__ = ["ConversationRecord", "HandedOver", "ServedAgent"]


@dataclass(slots=True)
class ConversationRecord:
    """A paused conversation, as JSON in Redis under ``deepsearch:conversation:{space}:{conversation}``."""

    space_id: str
    conversation_id: str
    question: str
    pending: dict[str, Any]  # the HitlRequest the run waits on (model_dump)
    owner: str  # the worker holding the paused run (and its open stream)
    epoch: int = 1  # pauses of this conversation so far, on any worker
    agent_config: dict[str, Any] = field(default_factory=dict)  # without secrets
    report_template: str = ""
    exchanges: list[dict[str, str]] = field(default_factory=list)  # {stage, feedback, message}, oldest first
    paused_at: float = field(default_factory=time.time)

    @property
    def key(self) -> str:
        return f"{self.space_id}:{self.conversation_id}"

    def request(self) -> HitlRequest:
        return HitlRequest.model_validate(self.pending)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> ConversationRecord:
        data = json.loads(raw)
        return cls(**data)


class HandedOver(AgentError):
    """Ends a paused run on the worker that held it: its conversation goes on on another worker."""


class ServedAgent:
    """One run's view of the server's agent: maybe resume first, maybe hand over (see the module docstring)."""

    def __init__(self, inner: Agent, *, resume_with: HitlAnswer | None = None) -> None:
        self.inner = inner
        self.kind = getattr(inner, "kind", type(inner).__name__)
        self._resume_with = resume_with
        self.handed_to: str | None = None  # set when another worker took the conversation over

    def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[ChunkLike]:
        if self.handed_to is not None:
            return self._refuse()
        if self._resume_with is not None:
            answer, self._resume_with = self._resume_with, None
            message, interrupt_feedback = answer.message, answer.feedback.value
        return self.inner.run(message, conversation_id, agent_config, report_template, interrupt_feedback)

    async def _refuse(self) -> AsyncIterator[ChunkLike]:
        raise HandedOver(f"the conversation continues on worker {self.handed_to}")
        yield ""  # pragma: no cover - makes this an async generator

    async def cleanup_session(self, conversation_id: str) -> None:
        if self.handed_to is None and isinstance(self.inner, SupportsSessionCleanup):
            await self.inner.cleanup_session(conversation_id)

    async def cancel_tasks(self, conversation_id: str) -> None:
        if self.handed_to is None and isinstance(self.inner, SupportsTaskCancel):
            await self.inner.cancel_tasks(conversation_id)

    def secret_values(self) -> Sequence[str]:
        return self.inner.secret_values() if isinstance(self.inner, SupportsSecrets) else ()

    def spec(self) -> AgentSpec:
        if isinstance(self.inner, SupportsSpec):
            return self.inner.spec()
        return {"kind": str(self.kind), "config": {}}

"""Building chunks exactly as the openJiuwen SDK serialises them, and streaming them at a human pace.

The chunks themselves come from the protocol's one constructor (``_protocol/_wire.py``, the SDK's key
order and field types). Message ids are UUIDs derived from the
conversation, the round and a counter, so a replayed conversation yields the same ids.

Every chunk passes through :meth:`Emitter.tick` first: it checks the run's cancel event (the SDK's
``_raise_if_cancelled``) and awaits ``asyncio.sleep``, so both cooperative cancellation and
``task.cancel()`` land between two chunks.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable

from ..._protocol._wire import framework_chunk, interrupt_chunk, sdk_chunk
from .._base import raise_if_cancelled

__all__ = ["Emitter", "split_tokens"]

_NAMESPACE = uuid.UUID("6f1c1f5e-5b0e-4a53-9a43-0d2f4b8a7c11")  # fixed: ids must not change between runs
_TOKEN = re.compile(r"\S+\s*")


def split_tokens(text: str) -> list[str]:
    """Word-sized pieces whose concatenation is exactly ``text`` (leading whitespace kept on the first)."""
    tokens = _TOKEN.findall(text)
    lead = text[: len(text) - len(text.lstrip())]
    if not tokens:
        return [text] if text else []
    tokens[0] = lead + tokens[0]
    return tokens


def _dumps(data: dict[str, object]) -> str:
    return json.dumps(data, ensure_ascii=False)


class Emitter:
    """Chunk factory of one ``run`` call (one round) of one conversation."""

    def __init__(
        self,
        conversation_id: str,
        round_no: int,
        pacing: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.conversation_id = conversation_id
        self.round_no = round_no
        self.pacing = pacing
        self._clock = clock
        self._count = 0

    def new_id(self) -> str:
        self._count += 1
        return str(uuid.uuid5(_NAMESPACE, f"{self.conversation_id}/{self.round_no}/{self._count}"))

    def _now(self) -> int:
        return int(self._clock() * 1000)

    async def tick(self) -> None:
        """The boundary between two chunks: cancellation is honoured here, and the pace is kept."""
        raise_if_cancelled()
        await asyncio.sleep(self.pacing)
        raise_if_cancelled()

    def chunk(
        self,
        agent: str,
        event: str,
        content: str = "",
        *,
        message_id: str | None = None,
        section: int | str = 0,
        plan: int | str = 0,
        step: int | str = 0,
        timed: bool = True,
    ) -> str:
        """A ``message_chunk`` of a graph node."""
        return _dumps(
            sdk_chunk(
                agent,
                event,
                content,
                conversation_id=self.conversation_id,
                message_id=message_id or self.new_id(),
                created_time=self._now() if timed else "",
                section_idx=str(section),
                plan_idx=str(plan),
                step_idx=str(step),
            )
        )

    def interrupt(self, agent: str, prompt: str) -> str:
        """A ``waiting_user_input`` interrupt: the round ends after it."""
        return _dumps(interrupt_chunk(agent, prompt, conversation_id=self.conversation_id, message_id=self.new_id()))

    def framework(self, event: str, content: str) -> str:
        """The SDK's own error / end chunks, which carry no ``*_idx`` fields."""
        return _dumps(
            framework_chunk(
                event, content, conversation_id=self.conversation_id, message_id=self.new_id(), created_time=self._now()
            )
        )

    async def stream(
        self, agent: str, text: str, *, section: int = 0, plan: int = 0, whole: bool = False
    ) -> AsyncIterator[str]:
        """``start``, the text (word by word, or ``whole`` as one payload), ``done``: one message id."""
        message_id = self.new_id()
        await self.tick()
        yield self.chunk(agent, "start", message_id=message_id, section=section, plan=plan)
        for piece in [text] if whole else split_tokens(text):
            await self.tick()
            yield self.chunk(agent, "message", piece, message_id=message_id, section=section, plan=plan)
        await self.tick()
        yield self.chunk(agent, "done", message_id=message_id, section=section, plan=plan)

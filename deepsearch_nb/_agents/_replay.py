"""Replay a recorded conversation: the agent that makes a saved report reproducible.

A transcript is a list of rounds, each the chunks one ``run`` call yielded. Each ``run`` call on a
conversation plays the next round; the chunks' ``conversation_id`` is rewritten to the one asked for, so
a transcript replays under any id.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError
from ._base import ChunkLike, raise_if_cancelled

__all__ = ["ReplayAgent", "split_rounds"]

_RECORDER_KEYS = ("round", "t")  # added by the capture recorder, not part of the protocol


def split_rounds(chunks: Iterable[Mapping[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group a flat chunk list into rounds: a round ends after an interrupt or ``ALL END``.

    A ``round`` key (as in the reference captures) also starts a new round when it changes.
    """
    rounds: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    label: object = None
    for raw in chunks:
        item = {k: v for k, v in raw.items() if k not in _RECORDER_KEYS}
        if current and "round" in raw and raw["round"] != label:
            rounds.append(current)
            current = []
        label = raw.get("round", label)
        current.append(item)
        if item.get("event") == "waiting_user_input" or (
            item.get("content") == "ALL END" and item.get("event") == "summary_response"
        ):
            rounds.append(current)
            current = []
    if current:
        rounds.append(current)
    return rounds


class ReplayAgent:
    """Plays recorded rounds in order, one per ``run`` call on a conversation."""

    kind = "replay"

    def __init__(self, rounds: Sequence[Sequence[Any]], *, pacing: float = 0.0) -> None:
        if pacing < 0:
            raise ConfigurationError(f"pacing must be 0 or more seconds, not {pacing}.")
        self.rounds = [list(r) for r in rounds]
        self.pacing = pacing
        self._played: dict[str, int] = {}

    @classmethod
    def from_jsonl(cls, path: str | Path, *, pacing: float = 0.0) -> ReplayAgent:
        """Read a transcript of one JSON chunk per line (the captures' format)."""
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        try:
            chunks = [json.loads(line) for line in lines if line.strip()]
        except ValueError as exc:
            raise ConfigurationError(f"{path} is not a JSON-lines transcript: {exc}") from None
        return cls(split_rounds(chunks), pacing=pacing)

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[ChunkLike]:
        index = self._played.get(conversation_id, 0)
        self._played[conversation_id] = index + 1
        if index >= len(self.rounds):
            for chunk in _exhausted(conversation_id, len(self.rounds)):
                yield chunk
            return
        for step in self.rounds[index]:
            raise_if_cancelled()
            if isinstance(step, str | bytes | Mapping):
                yield _with_conversation(step, conversation_id)
            else:
                async for item in self._play(step, conversation_id):
                    yield item
            if self.pacing:
                await asyncio.sleep(self.pacing)

    async def _play(self, step: Any, conversation_id: str) -> AsyncIterator[ChunkLike]:
        """Play a step that is not a chunk; subclasses add such steps (plain objects replay as they are)."""
        yield step

    async def cleanup_session(self, conversation_id: str) -> None:
        self._played.pop(conversation_id, None)


def _with_conversation(step: Any, conversation_id: str) -> Any:
    if isinstance(step, Mapping) and "conversation_id" in step:
        return {**step, "conversation_id": conversation_id}
    return step  # strings (possibly malformed on purpose) are replayed exactly


def _exhausted(conversation_id: str, count: int) -> list[dict[str, Any]]:
    info = f"[replay] the transcript has only {count} round(s); there is nothing to resume."
    base = {
        "conversation_id": conversation_id,
        "agent": "framework",
        "role": "assistant",
        "message_type": "message_chunk",
    }
    return [
        {**base, "content": json.dumps({"exception_info": info}), "event": "error"},
        {**base, "content": "ALL END", "event": "summary_response"},
    ]

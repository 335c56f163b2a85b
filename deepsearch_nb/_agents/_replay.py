"""Replay a recorded conversation: the agent that makes a saved report reproducible.

A transcript is a list of rounds, each the chunks one ``run`` call yielded. Each ``run`` call on a
conversation plays the next round; the chunks' ``conversation_id`` is rewritten to the one asked for, so
a transcript replays under any id.

Given the recorded ``question`` and ``answers`` (as a deepsearch-nb transcript holds them), a replay is
also a check: a ``run`` call whose question or answer differs from the recording does not play the
recorded round (that would "reproduce" a report for inputs it never saw) but ends the run with an error
that names the stop and both answers, so the run is FAILED and says where it diverged.
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

    def __init__(
        self,
        rounds: Sequence[Sequence[Any]],
        *,
        pacing: float = 0.0,
        question: str | None = None,
        answers: Sequence[tuple[str, str]] | None = None,
        times: Sequence[Sequence[float]] | None = None,
        speed: float = 0.0,
        sources: Mapping[str, Any] | None = None,
    ) -> None:
        """``question``/``answers`` (``(feedback, message)`` per stop) turn on the divergence check;
        ``times`` (seconds since the start, per chunk) with ``speed`` > 0 replays at the recorded pace
        (1.0 as recorded, 2.0 twice as fast); ``pacing`` is a fixed pause after every chunk instead.
        ``sources``: where the recorded agent searched (its spec's ``corpus`` and ``search``), kept in this
        agent's spec so that a replayed report's citations are checked against the same documents."""
        if pacing < 0 or speed < 0:
            raise ConfigurationError(f"pacing and speed must be 0 or more, not {pacing} and {speed}.")
        self.rounds = [list(r) for r in rounds]
        self.pacing = pacing
        self.question = question
        self.answers = None if answers is None else [(str(f), str(m)) for f, m in answers]
        self.times = [list(t) for t in times] if times is not None else None
        self.speed = speed
        self.sources = dict(sources or {})
        self._played: dict[str, int] = {}

    @classmethod
    def from_jsonl(cls, path: str | Path, *, pacing: float = 0.0) -> ReplayAgent:
        """Read a transcript of one JSON chunk per line (the captures' format, and ``--transcript`` before
        transcripts had a header; a deepsearch-nb transcript is read with ``read_transcript``)."""
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        try:
            chunks = [json.loads(line) for line in lines if line.strip()]
        except ValueError as exc:
            raise ConfigurationError(f"{path} is not a JSON-lines transcript: {exc}") from None
        if chunks and isinstance(chunks[0], Mapping) and chunks[0].get("type") == "header":
            raise ConfigurationError(
                f"{path} is a deepsearch-nb transcript: replay it with "
                "deepsearch_nb.runtime.read_transcript(path).replay_agent() (or deepsearch-nb replay)."
            )
        return cls(split_rounds(chunks), pacing=pacing)

    def spec(self) -> dict[str, Any]:
        """A replay rebuilds nothing: the spec says so (reports made by a replay name it as their agent)."""
        return {"kind": "replay", "config": {"rounds": len(self.rounds), "speed": self.speed, **self.sources}}

    def divergence(self, index: int, message: str, feedback: str) -> str | None:
        """Why call ``index`` (0: the question, k: the answer to stop k) departs from the recording."""
        if index == 0:
            if self.question is not None and message != self.question:
                return f"the question differs: recorded {self.question!r}, asked {message!r}"
            return None
        if self.answers is None:
            return None
        if index > len(self.answers):
            return f"stop {index} has no recorded answer (the recording answered {len(self.answers)} stop(s))"
        recorded = self.answers[index - 1]
        if (feedback, message) != recorded:
            return (
                f"the answer at stop {index} differs: recorded {recorded[0] or 'no feedback'} {recorded[1]!r}, "
                f"given {feedback or 'no feedback'} {message!r}"
            )
        return None

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
        diverged = self.divergence(index, message, interrupt_feedback)
        if diverged is not None:
            for chunk in _failure(conversation_id, f"[replay] diverged from the recording: {diverged}."):
                yield chunk
            return
        if index >= len(self.rounds):
            for chunk in _exhausted(conversation_id, len(self.rounds)):
                yield chunk
            return
        times = self.times[index] if self.times is not None and index < len(self.times) else []
        for number, step in enumerate(self.rounds[index]):
            raise_if_cancelled()
            if self.speed and 0 < number < len(times):
                await asyncio.sleep(max(times[number] - times[number - 1], 0.0) / self.speed)
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
    return _failure(conversation_id, f"[replay] the transcript has only {count} round(s); there is nothing to resume.")


def _failure(conversation_id: str, info: str) -> list[dict[str, Any]]:
    """The SDK's error path: a ``framework`` error chunk and ``ALL END`` (the run ends FAILED with ``info``)."""
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

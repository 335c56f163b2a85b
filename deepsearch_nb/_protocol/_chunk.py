"""One chunk of the stream, and the tolerant parser that never lets a bad chunk end a run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ._text import NotJson, clean_json, has_surrogates, is_clean_flat, repair_text
from ._values import AgentName, MessageType, StreamEvent

__all__ = [
    "ALL_END",
    "SECTION_END",
    "SUCCESS",
    "Chunk",
    "MalformedChunk",
    "ParsedChunk",
    "cancel_chunk",
    "parse_chunk",
]

ALL_END = "ALL END"
SECTION_END = "SECTION END"
SUCCESS = "SUCCESS"


class Chunk(BaseModel):
    """A chunk exactly as the openJiuwen research agent streams it.

    Types are strict (a number where the protocol has a string is a malformed chunk, not a silent
    coercion) and unknown keys are kept, so a chunk re-serialises to what arrived.
    ``created_time`` is an int (ms epoch), ``""`` (interrupts, SECTION END) or absent (server cancel).
    """

    model_config = ConfigDict(extra="allow", strict=True)

    agent: str
    event: str
    content: str = ""
    conversation_id: str = ""
    message_id: str = ""
    role: str = "assistant"
    message_type: str = MessageType.MESSAGE_CHUNK.value
    created_time: int | Literal[""] | None = None
    section_idx: str = "0"
    plan_idx: str = "0"
    step_idx: str = "0"
    finish_reason: str | None = None

    @property
    def is_interrupt(self) -> bool:
        """The round ends here and the run waits for a human answer."""
        return self.event == StreamEvent.WAITING_USER_INPUT or self.message_type == MessageType.INTERRUPT

    @property
    def is_all_end(self) -> bool:
        """The only reliable "finished" marker of a research run."""
        return self.content == ALL_END and self.event == StreamEvent.SUMMARY_RESPONSE

    @property
    def is_section_end(self) -> bool:
        return self.content == SECTION_END and self.agent == AgentName.END

    @property
    def is_cancel(self) -> bool:
        return self.event == StreamEvent.CANCEL

    @property
    def is_final_result(self) -> bool:
        """The ``end`` chunk carrying a ``FinalResult`` JSON (success or error)."""
        return (
            self.agent == AgentName.END
            and self.event in (StreamEvent.SUMMARY_RESPONSE, StreamEvent.ERROR)
            and self.content.startswith("{")
        )

    def to_wire(self) -> str:
        """Serialise as the SDK does (``json.dumps(..., ensure_ascii=False)``) with exactly the keys that
        arrived (or were given), so a relayed or replayed chunk is the chunk that was received."""
        return json.dumps(self.model_dump(exclude_unset=True), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class MalformedChunk:
    """A chunk that could not be read. The run goes on; ``raw`` keeps the text for the user to see."""

    raw: str
    reason: str


ParsedChunk = Chunk | MalformedChunk


def parse_chunk(raw: str | bytes | Mapping[str, Any]) -> ParsedChunk:
    """Read one chunk as an agent yielded it (a JSON string or a dict).

    Never raises for bad data: what is not a JSON object with the protocol's fields and types comes back
    as a :class:`MalformedChunk` naming what is wrong. This is where agent text enters the system, so
    every string of the chunk (keys and values, extras at any depth) is repaired here (lone surrogates
    become U+FFFD, see ``_text``) and a dict that JSON cannot carry (circular, a ``datetime``, ``NaN``)
    is refused: a chunk is relayed, saved and replayed as JSON, and must not break any of them later.
    """
    if isinstance(raw, str) and not has_surrogates(raw):
        try:  # the common case in one pass (JSON parsing and validation in pydantic-core)
            return Chunk.model_validate_json(raw)
        except ValidationError:
            pass  # fall through to find out what exactly is wrong
    data: Any
    if isinstance(raw, dict) and is_clean_flat(raw):  # the common dict chunk: nothing to repair or refuse
        try:
            return Chunk.model_validate(raw)
        except ValidationError as exc:
            return MalformedChunk(_dump_for_display(raw), _describe(exc))
    if isinstance(raw, Mapping):
        text = _dump_for_display(raw)
        data = raw
    else:
        if isinstance(raw, bytes):
            text = raw.decode("utf-8", errors="replace")
        elif isinstance(raw, str):
            text = raw
        else:
            return MalformedChunk(repr(raw), f"expected a JSON string or an object, got {type(raw).__name__}")
        try:
            data = json.loads(text)
        except ValueError as exc:
            return MalformedChunk(repair_text(text), f"not JSON: {exc}")
        if not isinstance(data, dict):
            return MalformedChunk(repair_text(text), f"not a JSON object but a {type(data).__name__}")
    try:
        data = clean_json(data)
    except NotJson as exc:
        return MalformedChunk(text, f"not JSON: {exc}")
    text = repair_text(text)
    try:
        return Chunk.model_validate(data)
    except ValidationError as exc:
        return MalformedChunk(text, _describe(exc))


def cancel_chunk(conversation_id: str) -> Chunk:
    """The server's cancel chunk: no ``message_id`` and no ``created_time``, like the router sends."""
    return Chunk(
        conversation_id=conversation_id,
        agent=AgentName.SYSTEM.value,
        role="assistant",
        content="CANCELLED",
        message_type=MessageType.SYSTEM.value,
        event=StreamEvent.CANCEL.value,
    )


def _dump_for_display(data: Mapping[str, Any]) -> str:
    """The dict as text a person can read (valid Unicode), even when it is not JSON."""
    try:
        text = json.dumps(data, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):  # e.g. circular references
        text = repr(data)
    return repair_text(text)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "chunk"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")

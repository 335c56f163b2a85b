"""Parsing chunks: the captured real streams, and every way a chunk can be bad."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepsearch_nb.agents import Chunk, MalformedChunk, MessageType, StreamEvent, cancel_chunk, parse_chunk

CAPTURES = sorted((Path(__file__).parents[1] / "data" / "captures").glob("chunks_*.jsonl"))


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.stem)
def test_every_captured_chunk_parses_and_round_trips(path: Path) -> None:
    for line in path.read_text().splitlines():
        parsed = parse_chunk(line)
        assert isinstance(parsed, Chunk), parsed
        original = json.loads(line)
        assert json.loads(parsed.to_wire()) == original  # unknown keys (the recorder's round/t) kept
        assert parsed.event in set(StreamEvent)
        assert parsed.message_type in set(MessageType)
        if parsed.is_interrupt or parsed.is_section_end:
            assert parsed.created_time == ""
        else:
            assert isinstance(parsed.created_time, int)


def test_a_dict_chunk_parses_like_its_json() -> None:
    data = {"agent": "outline", "event": "start", "content": "", "created_time": ""}
    assert parse_chunk(data) == parse_chunk(json.dumps(data))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "not JSON"),
        ("{'agent': 1}", "not JSON"),
        ("[]", "not a JSON object but a list"),
        ("null", "not a JSON object but a NoneType"),
        ('"text"', "not a JSON object but a str"),
        ('{"event": "message"}', "agent: Field required"),
        ('{"agent": "end"}', "event: Field required"),
        ('{"agent": 1, "event": "message"}', "agent: Input should be a valid string"),
        ('{"agent": "a", "event": "message", "section_idx": 1}', "section_idx: Input should be a valid string"),
        ('{"agent": "a", "event": "message", "created_time": "soon"}', "created_time"),
        ('{"agent": "a", "event": "message", "content": ["x"]}', "content: Input should be a valid string"),
        (b"\xff", "not JSON"),
    ],
)
def test_bad_chunks_become_malformed_with_a_reason(raw: str | bytes, reason: str) -> None:
    parsed = parse_chunk(raw)
    assert isinstance(parsed, MalformedChunk)
    assert reason in parsed.reason
    assert parsed.raw == (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)


def test_objects_that_are_not_chunks_at_all_are_malformed() -> None:
    parsed = parse_chunk(42)  # type: ignore[arg-type]
    assert isinstance(parsed, MalformedChunk) and "got int" in parsed.reason


def test_markers_are_recognised() -> None:
    assert Chunk(agent="end", event="summary_response", content="ALL END").is_all_end
    assert Chunk(agent="framework", event="summary_response", content="ALL END").is_all_end
    assert Chunk(agent="end", event="summary_response", content="SECTION END").is_section_end
    assert not Chunk(agent="end", event="message", content="ALL END").is_all_end
    assert cancel_chunk("c").is_cancel

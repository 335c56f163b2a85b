"""Helpers and stream checks for the local research agent's tests (fixtures are in ``conftest``).

The shapes of real SDK chunks come from ``tests/data/captures`` (recorded from openJiuwen DeepSearch
0.1.11); ``assert_round_grammar`` checks one round against the protocol's grammar (reference §1.6).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepsearch_nb import LocalResearchAgent
from deepsearch_nb.agents import (
    DEMO_ANSWERS,
    DEMO_QUESTION,
    Chunk,
    FinalResult,
    HitlAnswer,
    MalformedChunk,
    parse_chunk,
)

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
RECORDER_KEYS = {"round", "t"}  # added by the capture script, not part of the protocol
MARKERS = {"ALL END", "SECTION END", "SUCCESS"}
# The SDK's own error/end chunks (protocol reference §1.7 D): no *_idx fields.
FRAMEWORK_KEYS = ("conversation_id", "message_id", "agent", "role", "content", "message_type", "event", "created_time")


def kind(chunk: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """What distinguishes chunk shapes: producer, event, message type, and marker content."""
    content = chunk.get("content", "")
    marker = content if content in MARKERS else "*"
    return (chunk["agent"], chunk["event"], chunk["message_type"], marker)


def shape(chunk: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
    """Key order and the type of ``created_time`` ("int" or "empty")."""
    keys = tuple(k for k in chunk if k not in RECORDER_KEYS)
    created = chunk.get("created_time")
    return keys, "empty" if created == "" else type(created).__name__


CaptureShapes = dict[tuple[str, str, str, str], set[tuple[tuple[str, ...], str]]]


def load_capture_shapes() -> CaptureShapes:
    shapes: CaptureShapes = {}
    for path in sorted(CAPTURES.glob("chunks_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                data = json.loads(line)
                shapes.setdefault(kind(data), set()).add(shape(data))
    return shapes


@dataclass
class Round:
    """The chunks of one ``run`` call, as wire strings and as dicts."""

    raw: list[str]
    chunks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.chunks = [json.loads(r) for r in self.raw]

    @property
    def last(self) -> dict[str, Any]:
        return self.chunks[-1]

    def of(self, agent: str, event: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.chunks if c["agent"] == agent and (event is None or c["event"] == event)]

    def text(self, agent: str, section: str | None = None) -> str:
        """The concatenated ``message`` tokens of a streamed producer."""
        return "".join(
            c["content"]
            for c in self.chunks
            if c["agent"] == agent and c["event"] == "message" and (section is None or c["section_idx"] == section)
        )

    def outline(self) -> dict[str, Any]:
        outline: dict[str, Any] = json.loads(self.text("outline"))
        return outline

    def final_result(self) -> FinalResult:
        ends = [c for c in self.chunks if c["agent"] == "end" and c["content"].startswith("{")]
        assert len(ends) == 1
        return FinalResult.from_content(ends[0]["content"])

    @property
    def report(self) -> str:
        return self.final_result().response_content


async def run_round(
    agent: LocalResearchAgent,
    message: str,
    conversation_id: str,
    feedback: str = "",
    config: Mapping[str, Any] | None = None,
    template: str = "",
) -> Round:
    raw = [
        chunk
        async for chunk in agent.run(
            message, conversation_id, agent_config=config, report_template=template, interrupt_feedback=feedback
        )
    ]
    assert all(isinstance(r, str) for r in raw)
    return Round(raw)


def scripted(answers: Iterable[str]) -> list[tuple[str, str]]:
    """``(interrupt_feedback, message)`` pairs from answers in ``HitlAnswer.coerce`` shorthand."""
    return [(a.feedback.value, a.message) for a in map(HitlAnswer.coerce, answers)]


async def run_script(
    agent: LocalResearchAgent,
    conversation_id: str,
    question: str = DEMO_QUESTION,
    answers: Iterable[str] = DEMO_ANSWERS,
    config: Mapping[str, Any] | None = None,
) -> list[Round]:
    """The question, then one round per answer; every round but the last must end at an interrupt."""
    rounds = [await run_round(agent, question, conversation_id, config=config)]
    for feedback, message in scripted(answers):
        assert rounds[-1].last["message_type"] == "interrupt", "the previous round did not stop at a question"
        rounds.append(await run_round(agent, message, conversation_id, feedback, config))
    return rounds


def assert_round_grammar(rnd: Round, capture_shapes: Mapping[Any, Any], conversation_id: str) -> None:
    """One round obeys the protocol: parseable, captured shapes, one id per stream, right ending."""
    # Kinds the captures lack, with the captured kind they must look like: our documented extension
    # (an invalid revise_outline), and the SDK's documented sub-report failure (protocol §1.4).
    extra_kinds = {
        ("outline_interaction", "error", "message_chunk", "*"): ("outline", "start", "message_chunk", "*"),
        ("sub_reporter", "summary_response", "message_chunk", "*"): (
            "sub_reporter",
            "summary_response",
            "message_chunk",
            "SUCCESS",
        ),
    }
    open_streams: dict[str, tuple[str, str]] = {}
    seen_ids: set[str] = set()
    for raw, chunk in zip(rnd.raw, rnd.chunks, strict=True):
        parsed = parse_chunk(raw)
        assert not isinstance(parsed, MalformedChunk), parsed
        assert isinstance(parsed, Chunk)
        assert parsed.model_dump(exclude_unset=True) == chunk  # nothing lost, coerced or added
        assert chunk["conversation_id"] == conversation_id and chunk["role"] == "assistant"
        assert isinstance(chunk["message_id"], str) and len(chunk["message_id"]) == 36
        k = kind(chunk)
        if chunk["agent"] == "framework":
            assert shape(chunk) == (FRAMEWORK_KEYS, "int")
        elif k in extra_kinds:
            assert shape(chunk) in capture_shapes[extra_kinds[k]]
        else:
            assert k in capture_shapes, f"no captured chunk looks like {k}"
            assert shape(chunk) in capture_shapes[k], (k, shape(chunk), capture_shapes[k])
        for idx in ("section_idx", "plan_idx", "step_idx"):
            if idx in chunk:
                assert isinstance(chunk[idx], str) and chunk[idx].isdigit()
        mid, event = chunk["message_id"], chunk["event"]
        if event == "start":
            assert chunk["content"] == "" and mid not in seen_ids
            open_streams[mid] = (chunk["agent"], chunk["section_idx"])
        elif event in ("message", "done"):
            assert open_streams.get(mid) == (chunk["agent"], chunk["section_idx"]), "token outside its stream"
            if event == "done":
                assert chunk["content"] == ""
                del open_streams[mid]
        else:
            assert mid not in seen_ids, "a single chunk reused a message id"
        seen_ids.add(mid)
    assert not open_streams, "a stream was never closed"
    last = rnd.last
    interrupts = [c for c in rnd.chunks if c["message_type"] == "interrupt"]
    if interrupts:
        assert interrupts == [last], "an interrupt must end its round"
        assert last["event"] == "waiting_user_input"
    else:
        assert last["content"] == "ALL END" and last["event"] == "summary_response"
        assert [c["content"] for c in rnd.chunks].count("ALL END") == 1
        if last["agent"] == "end":
            assert rnd.chunks[-2]["agent"] == "end" and rnd.chunks[-2]["content"].startswith("{")


def assert_sections(rnd: Round) -> None:
    """Per section: plan, collection, summary, sub_reporter stream, SUCCESS, SECTION END, in that order."""
    sections = sorted({c["section_idx"] for c in rnd.chunks if c["section_idx"] != "0"}, key=int)
    assert sections == [str(i) for i in range(1, len(sections) + 1)]
    for idx in sections:
        seq = [(c["agent"], c["event"], c["plan_idx"], c["step_idx"]) for c in rnd.chunks if c["section_idx"] == idx]
        assert seq[0] == ("plan_reasoning", "start", "1", "0")
        collected = [s for s in seq if s[0] == "collector_info_retrieval"]
        assert collected and all(s == ("collector_info_retrieval", "summary_response", "1", "1") for s in collected)
        assert ("collector_summary", "summary_response", "1", "1") in seq
        assert seq[-2:] == [("sub_reporter", "summary_response", "0", "0"), ("end", "summary_response", "0", "0")]
        tail = [c for c in rnd.chunks if c["section_idx"] == idx][-2:]
        assert [c["content"] for c in tail] == ["SUCCESS", "SECTION END"]
        assert tail[1]["created_time"] == ""
        assert rnd.text("sub_reporter", idx).startswith("# ")


def other_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]

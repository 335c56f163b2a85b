"""Issue 9, finding 4: invalid Unicode is repaired where text enters, and a chunk must be JSON.

Lone surrogates used to be accepted and to break every later consumer (``report.save()``, the UTF-8 MIME
bundle, ``to_wire()``, the server's stream); a circular dict chunk was accepted and ``to_wire()`` raised.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from deepsearch_nb import Report, RunState
from deepsearch_nb.agents import Chunk, HitlAnswer, HitlStage, MalformedChunk, parse_chunk
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import ScriptedAgent, chunk, clarification, outline_round, report_round

LONE = "\ud800"
BASE = {"agent": "report", "event": "message"}


def _all_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_all_strings(k), *_all_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _all_strings(v)]
    return []


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({**BASE, "content": f"a{LONE}b"}, ensure_ascii=False),  # a lone surrogate in the text
        json.dumps({**BASE, "content": "a\\ud800b"}).replace("\\\\", "\\"),  # the valid JSON escape \ud800
        {**BASE, "content": f"a{LONE}b"},  # a dict chunk
        ({**BASE, "content": f"a{LONE}b"}, "bytes"),
    ],
    ids=["str", "json-escape", "dict", "bytes"],
)
def test_finding4_lone_surrogates_are_repaired_in_a_chunk(raw: Any) -> None:
    if isinstance(raw, tuple):
        raw = json.dumps(raw[0], ensure_ascii=False).encode("utf-8", "surrogatepass")
    parsed = parse_chunk(raw)
    assert isinstance(parsed, Chunk), parsed
    assert parsed.content.startswith("a\ufffd") and parsed.content.endswith("b")  # bytes: one U+FFFD a byte
    assert not any("\ud800" <= c <= "\udfff" for c in parsed.content)
    parsed.to_wire().encode("utf-8")  # no UnicodeEncodeError


def test_finding4_every_string_of_a_chunk_is_repaired_keys_and_nested_extras_too() -> None:
    raw = {
        **BASE,
        "content": "x",
        f"key{LONE}": {"nested": [f"v{LONE}", {f"k{LONE}": f"{LONE}"}]},
        "agent_note": f"\ud83d\ude00 and {LONE}",  # a surrogate *pair* is the character it encodes
    }
    parsed = parse_chunk(raw)
    assert isinstance(parsed, Chunk), parsed
    wire = parsed.to_wire()
    wire.encode("utf-8")
    data = json.loads(wire)
    assert data["key\ufffd"] == {"nested": ["v\ufffd", {"k\ufffd": "\ufffd"}]}
    assert data["agent_note"] == "\U0001f600 and \ufffd"
    assert all("\ud800" not in s for s in _all_strings(data))


def test_finding4_an_ascii_escaped_emoji_still_takes_the_fast_path_result() -> None:
    parsed = parse_chunk(json.dumps({**BASE, "content": "tea \U0001f375"}))  # ensure_ascii: \ud83c\udf75
    assert isinstance(parsed, Chunk) and parsed.content == "tea \U0001f375"


def _circular() -> dict[str, Any]:
    data: dict[str, Any] = {**BASE, "content": "x"}
    data["self"] = data
    return data


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (_circular(), "circular reference"),
        ({**BASE, "when": datetime.date(2024, 1, 1)}, "when: a date is not a JSON value"),
        ({**BASE, "tags": {"a", "b"}}, "tags: a set is not a JSON value"),
        ({**BASE, "extra": {"n": float("nan")}}, "extra.n: nan is not a JSON number"),
        ({**BASE, "extra": {1: "one"}}, "the key 1 is not text"),
    ],
    ids=["circular", "date", "set", "nan", "int-key"],
)
def test_finding4_a_chunk_json_cannot_carry_is_malformed_with_a_reason(raw: dict[str, Any], reason: str) -> None:
    parsed = parse_chunk(raw)
    assert isinstance(parsed, MalformedChunk), parsed
    assert reason in parsed.reason
    parsed.raw.encode("utf-8")


def test_finding4_tuples_in_a_dict_chunk_are_kept_as_lists() -> None:
    parsed = parse_chunk({**BASE, "pair": ("a", 1)})
    assert isinstance(parsed, Chunk) and json.loads(parsed.to_wire())["pair"] == ["a", 1]


def test_finding4_answers_are_repaired() -> None:
    assert HitlAnswer.coerce(f"Europe{LONE}", HitlStage.CLARIFICATION).message == "Europe\ufffd"
    assert HitlAnswer.answer(f"x{LONE}").message == "x\ufffd"
    assert HitlAnswer.coerce({"feedback": "accepted", "message": LONE}).message == "\ufffd"
    assert HitlAnswer.revise(f"add {LONE}").message == "add \ufffd"


async def test_finding4_a_run_fed_lone_surrogates_everywhere_saves_and_renders(
    manager: RunManager, tmp_path: Path
) -> None:
    outline = {"title": f"Outline{LONE}", "sections": [{"title": f"A{LONE}", "description": "d"}]}
    agent = ScriptedAgent(
        [chunk("generate_questions", "message", f"Which{LONE}?"), *clarification(f"1. Region{LONE}?")],
        outline_round(outline),
        [
            {**chunk("report", "message", "x"), "extra": f"e{LONE}"},
            *report_round([f"Section{LONE} [citation:1]."], sources=[(f"Doc{LONE}", "docs/a.md")]),
        ],
    )
    run = manager.start(agent, f"How did tea spread{LONE}?")
    await run.until_settled(timeout=5)
    run.submit(f"Asia{LONE}")
    await run.until_settled(timeout=5)
    run.submit("accept")
    await run.wait(timeout=5)
    assert run.state is RunState.COMPLETED
    assert run.question == "How did tea spread\ufffd?"
    for c in run.chunks:
        c.to_wire().encode("utf-8")
    report = Report.from_run(run)
    for path in (report.save(tmp_path / "r.json"), report.save(tmp_path / "r.md")):
        assert "\ufffd" in path.read_text(encoding="utf-8")
    for mime, value in report._repr_mimebundle_().items():
        (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)).encode("utf-8"), mime
    assert LONE not in json.dumps(report.doc, ensure_ascii=False)

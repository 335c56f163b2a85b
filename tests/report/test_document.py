"""The persistent report document: built from real runs of every kind, valid against schema v1, no secrets."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from deepsearch_nb import REPORT_MIME, ConfigurationError, InvalidInputError, Report, RunState, __version__
from deepsearch_nb._report import SCHEMA_VERSION, load_schema, report_document
from deepsearch_nb.runtime import Run, RunManager
from deepsearch_nb.testing import (
    Hang,
    Raise,
    ScriptedAgent,
    clarification,
    framework_error,
    outline_round,
    report_round,
    tokens,
    until_chunks,
)

KEY = "sk-test-0123456789abcdefXYZ"
OUTLINE = {"title": "How tea spread", "sections": [{"title": "Origins", "description": "Where it began"}]}
SOURCES = [("Tea in China", "https://example.org/tea"), ("Local notes", "docs/notes.md")]
SECTIONS = ["Tea began in China [citation:1].", "It travelled by sea [citation:2]."]
DATA = Path(__file__).parent.parent / "data" / "reports"


def config() -> dict[str, Any]:
    return {
        "llm_config": {"general": {"model_name": "qwen", "api_key": bytearray(KEY.encode())}},
        "web_search_engine_config": {"search_api_key": "tvly-abcdefgh12345"},
        "corpus": Path("docs"),
        "sizes": (1, 2),
        "outline_interaction_enabled": True,
    }


# --- one builder per kind of run ------------------------------------------------------------------


async def completed(manager: RunManager) -> Run:
    agent = ScriptedAgent(clarification(), outline_round(OUTLINE), report_round(SECTIONS, sources=SOURCES))
    run = manager.start(agent, "How did tea spread?", agent_config=config())
    assert await run.until_settled(timeout=5) is RunState.WAITING_USER_INPUT
    run.submit("Asia and Europe")
    assert await run.until_settled(timeout=5) is RunState.WAITING_USER_INPUT
    run.submit("accept")
    return await run.wait(timeout=5)


async def waiting(manager: RunManager) -> Run:
    run = manager.start(ScriptedAgent(clarification("1. Which era?")), "How did tea spread?", agent_config=config())
    assert await run.until_settled(timeout=5) is RunState.WAITING_USER_INPUT
    return run


async def cancelled_mid_stream(manager: RunManager) -> Run:
    chunks = report_round(SECTIONS, sources=SOURCES, accepted=False)[:-2]  # no final result, no ALL END
    run = manager.start(ScriptedAgent([*chunks, Hang()]), "How did tea spread?", agent_config=config())
    await until_chunks(run, len(chunks))
    run.cancel()
    return await run.wait(timeout=5)


async def failed_raise(manager: RunManager) -> Run:
    script = [
        *tokens("sub_reporter", ["Half a ", "section"], section_idx="1"),
        Raise(RuntimeError(f"401: bad key {KEY}")),
    ]
    run = manager.start(ScriptedAgent(script), "How did tea spread?", agent_config=config())
    return await run.wait(timeout=5)


async def failed_reported(manager: RunManager) -> Run:
    run = manager.start(ScriptedAgent(framework_error(f"LLM refused key {KEY}")), "Tea?", agent_config=config())
    return await run.wait(timeout=5)


async def evicted(manager: RunManager) -> Run:
    small = RunManager(hitl_capacity=1, cancel_grace_s=0.3)
    agent = ScriptedAgent(clarification())
    first = small.start(agent, "First question", conversation_id="first", agent_config=config())
    await first.until_settled(timeout=5)
    second = small.start(agent, "Second question", conversation_id="second")
    await second.until_settled(timeout=5)
    await first.wait(timeout=5)
    await small.aclose(timeout=5)
    return first


async def cancelled_key(manager: RunManager) -> Run:
    run = await waiting(manager)
    run.cancel()
    await run.wait(timeout=5)
    again = manager.start(ScriptedAgent(clarification()), "Again?", conversation_id=run.conversation_id)
    return await again.wait(timeout=5)


BUILDERS: dict[str, Callable[[RunManager], Awaitable[Run]]] = {
    "completed": completed,
    "waiting": waiting,
    "cancelled_mid_stream": cancelled_mid_stream,
    "failed_raise": failed_raise,
    "failed_reported": failed_reported,
    "evicted": evicted,
    "cancelled_key": cancelled_key,
}


async def finish(run: Run) -> None:
    """Leave no paused run behind for the manager fixture's leak check."""
    if not run.state.terminal:
        run.cancel()
        await run.wait(timeout=5)


# --- schema ---------------------------------------------------------------------------------------


def test_schema_is_package_data_and_a_fresh_copy() -> None:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    schema["title"] = "changed"
    assert load_schema()["title"] != "changed"
    assert REPORT_MIME == "application/vnd.deepsearch.report+json"


@pytest.mark.parametrize("kind", sorted(BUILDERS))
async def test_every_kind_of_run_gives_a_valid_document_without_secrets(manager: RunManager, kind: str) -> None:
    run = await BUILDERS[kind](manager)
    state = run.state
    doc = report_document(run)
    await finish(run)
    jsonschema.Draft202012Validator(load_schema()).validate(doc)
    text = json.dumps(doc)  # plain JSON types only: the notebook must be able to store it
    assert json.loads(text) == doc
    assert KEY not in text and "tvly-abcdefgh12345" not in text
    assert doc["status"] == state.value
    assert doc["package_version"] == __version__
    assert doc["timings"]["started_at"].endswith("Z")


@pytest.mark.parametrize("name", ["completed", "cancelled_partial", "failed", "hostile"])
def test_shared_fixture_documents_are_valid(name: str) -> None:
    doc = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(load_schema()).validate(doc)
    assert Report.from_document(doc).status == doc["status"]


# --- contents -------------------------------------------------------------------------------------


async def test_completed_document(manager: RunManager) -> None:
    run = await completed(manager)
    doc = report_document(run)
    assert doc["question"] == "How did tea spread?"
    assert doc["title"] == "How tea spread"  # the outline's title
    assert doc["status"] == "COMPLETED" and doc["error"] is None
    assert doc["report_markdown"] == run.report_markdown and "[citation:1]" in doc["report_markdown"]
    assert doc["sources"] == [
        {"index": 1, "title": "Tea in China", "url": "https://example.org/tea"},
        {"index": 2, "title": "Local notes", "url": "docs/notes.md"},
    ]
    assert doc["citations"] == {}
    clarify, review = doc["hitl"]
    assert clarify["stage"] == "clarification" and clarify["feedback"] == "accepted"
    assert clarify["message"] == "Asia and Europe" and "Which region?" in clarify["questions"]
    assert clarify["outline"] is None
    assert review["stage"] == "outline_review" and review["outline"]["title"] == "How tea spread"
    assert review["outline"]["sections"][0]["title"] == "Origins"
    assert doc["timings"]["ended_at"] is not None and doc["timings"]["elapsed_s"] >= 0
    assert doc["agent"]["kind"] == "fake"
    assert doc["conversation_id"] == run.conversation_id
    assert "pending" not in doc


async def test_config_is_redacted_and_made_json(manager: RunManager) -> None:
    run = await completed(manager)
    cfg = report_document(run)["agent"]["config"]
    assert cfg["llm_config"]["general"] == {"model_name": "qwen", "api_key": "***"}
    assert cfg["web_search_engine_config"] == {"search_api_key": "***"}
    assert cfg["corpus"] == "docs" and cfg["sizes"] == [1, 2]
    assert run.agent_config["llm_config"]["general"]["api_key"] == bytearray(KEY.encode())  # untouched


async def test_agent_kind_can_be_named(manager: RunManager) -> None:
    run = await completed(manager)
    assert report_document(run, agent_kind="openjiuwen-sdk")["agent"]["kind"] == "openjiuwen-sdk"


async def test_title_falls_back_to_the_first_heading(manager: RunManager) -> None:
    run = manager.start(ScriptedAgent(report_round(["Body."], title="Report on tea", accepted=False)), "Tea?")
    await run.wait(timeout=5)
    assert report_document(run)["title"] == "Report on tea"


async def test_waiting_document_carries_the_pending_question(manager: RunManager) -> None:
    run = await waiting(manager)
    doc = report_document(run)
    await finish(run)
    assert doc["status"] == "WAITING_USER_INPUT" and doc["error"] is None
    assert doc["timings"]["ended_at"] is None
    assert doc["pending"]["stage"] == "clarification" and "Which era?" in doc["pending"]["questions"]


async def test_cancelled_run_keeps_its_partial_report(manager: RunManager) -> None:
    run = await cancelled_mid_stream(manager)
    doc = report_document(run)
    assert doc["status"] == "CANCELLED"
    assert "Tea began in China [citation:1]." in doc["report_markdown"]
    assert "It travelled by sea" in doc["report_markdown"]
    # No final result: the sources are the ones collected while streaming.
    assert [s["url"] for s in doc["sources"]] == ["https://example.org/tea", "docs/notes.md"]
    assert doc["sources"][0]["query"] == "Report"
    assert "cancelled" in doc["error"] and "cancelled by the user" in doc["error"]
    assert "what was written before it stopped" in doc["error"]


async def test_evicted_run_says_what_to_do(manager: RunManager) -> None:
    doc = report_document(await evicted(manager))
    assert doc["status"] == "CANCELLED"
    assert "evicted" in doc["error"] and "hitl_capacity" in doc["error"]
    assert "Nothing was written yet" in doc["error"]


async def test_failed_run_error_is_scrubbed(manager: RunManager) -> None:
    doc = report_document(await failed_raise(manager))
    assert doc["status"] == "FAILED"
    assert doc["error"].startswith("The agent failed: RuntimeError: 401: bad key ")
    assert KEY not in doc["error"] and "***" in doc["error"]
    assert doc["report_markdown"] == "Half a section"


async def test_secrets_are_scrubbed_from_every_text_field(manager: RunManager) -> None:
    sections = [f"The key {KEY} leaked [citation:1]."]
    agent = ScriptedAgent(report_round(sections, sources=[(f"Doc {KEY}", f"https://x.org/?k={KEY}")], accepted=False))
    run = manager.start(agent, f"Why does {KEY} fail?", agent_config=config())
    await run.wait(timeout=5)
    text = json.dumps(report_document(run))
    assert KEY not in text
    assert text.count("***") >= 4


# --- the Report wrapper ---------------------------------------------------------------------------


async def test_report_reads_a_run(manager: RunManager) -> None:
    run = await completed(manager)
    report = Report.from_run(run)
    assert report.status == "COMPLETED"
    assert report.question == "How did tea spread?"
    assert report.title == "How tea spread"
    assert report.error is None
    assert report.markdown == run.report_markdown
    assert [s.url for s in report.sources] == ["https://example.org/tea", "docs/notes.md"]
    assert "COMPLETED" in repr(report)


async def test_report_is_read_only(manager: RunManager) -> None:
    report = Report.from_run(await completed(manager))
    report.doc["status"] = "FAILED"
    report.doc["sources"].clear()
    assert report.status == "COMPLETED" and len(report.sources) == 2
    with pytest.raises(AttributeError):
        report.extra = 1  # type: ignore[attr-defined]


async def test_from_document_round_trips_dict_and_json(manager: RunManager) -> None:
    report = Report.from_run(await completed(manager))
    assert Report.from_document(report.doc).doc == report.doc
    assert Report.from_document(report.to_json()).doc == report.doc
    assert Report.from_document(report.to_json(indent=None).encode()).doc == report.doc


def test_unknown_version_is_refused_clearly() -> None:
    doc = json.loads((DATA / "unknown_version.json").read_text(encoding="utf-8"))
    with pytest.raises(ConfigurationError, match=r"schema version 2.*upgrade deepsearch_nb"):
        Report.from_document(doc)


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ({"schema_version": 0}, "not a deepsearch_nb report document of a known version"),
        ({"question": "q"}, "schema_version=None"),
        ({"schema_version": True}, "known version"),
        ([1, 2], "JSON object"),
        ("not json", "not JSON"),
        ({"schema_version": 1, "question": "q"}, "incomplete: it has no status"),
    ],
)
def test_bad_documents_are_refused(doc: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Report.from_document(doc)


async def test_save_markdown_and_json(manager: RunManager, tmp_path: Path) -> None:
    report = Report.from_run(await completed(manager))
    md = report.save(tmp_path / "tea.md")
    assert md.read_text(encoding="utf-8") == report.to_markdown()
    assert "## Sources" in md.read_text(encoding="utf-8")
    js = report.save(str(tmp_path / "tea.json"))
    assert Report.load(js).doc == report.doc
    with pytest.raises(InvalidInputError, match=r"\.md .*\.json"):
        report.save(tmp_path / "tea.txt")


async def test_mimebundle_include_exclude(manager: RunManager) -> None:
    report = Report.from_run(await completed(manager))
    bundle = report._repr_mimebundle_()
    assert set(bundle) == {REPORT_MIME, "text/markdown", "text/html", "text/plain"}
    assert bundle[REPORT_MIME] == report.doc
    assert set(report._repr_mimebundle_(include={"text/plain"})) == {"text/plain"}
    assert REPORT_MIME not in report._repr_mimebundle_(exclude={REPORT_MIME})


async def test_ipython_displays_the_whole_bundle(manager: RunManager) -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    report = Report.from_run(await completed(manager))
    data, _metadata = formatters.DisplayFormatter().format(report)
    assert {REPORT_MIME, "text/markdown", "text/html", "text/plain"} <= set(data)
    assert data[REPORT_MIME]["status"] == "COMPLETED"

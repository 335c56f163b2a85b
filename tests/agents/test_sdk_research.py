"""The real SDK through ``research()``, with a report template, and a random key searched everywhere.

The key (``secrets.token_hex``: not shaped like ``sk-...``, so no pattern scrubber finds it by luck)
must reach the LLM's ``Authorization`` header and nothing else: not the report (document, Markdown, saved
file), not the SDK's log files, not the project's logs (captured at DEBUG), not an error, not a repr.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from deepsearch_nb import Report, RunState, research
from deepsearch_nb._agents._local._corpus import load_corpus
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import StubLLM

from ._sdk_support import LOG_DIR, QUESTION, SDK_MARKS, files_containing, guard, key, llm, make_agent, workdir

__all__ = ["guard", "key", "llm", "workdir"]  # fixtures used by name
pytestmark = SDK_MARKS

TEMPLATE = "# Storage briefing\n\n## Market outlook for utilities\n\n## Risks a planner must weigh\n"


async def test_research_with_scripted_answers(
    manager: RunManager, llm: StubLLM, key: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    agent = make_agent(llm)
    answers = ["Focus on costs and fire safety.", "revise: add a section on recycling", "accept"]
    report = await research(QUESTION, agent=agent, answers=answers, manager=manager, display=False)
    assert report.status == "COMPLETED", report.error
    assert [e["feedback"] for e in report.doc["hitl"]] == ["accepted", "revise_comment", "accepted"]
    assert "# Recycling" in report.markdown or "Recycling" in report.markdown
    titles = {s.title for s in report.sources}
    assert titles and titles <= {d.title for d in load_corpus(None).documents}  # the shipped corpus's documents
    saved = report.save(tmp_path / "report.json")
    for text in (saved.read_text(), report.markdown, json.dumps(report.doc), repr(report), repr(agent), caplog.text):
        assert key not in text
    assert files_containing(LOG_DIR, key) == []
    assert agent.sdk_sessions(report.doc["conversation_id"]) == []


async def test_the_outline_request_carries_the_report_template(manager: RunManager, llm: StubLLM, key: str) -> None:
    agent = make_agent(llm, human_in_the_loop=False, outline_interaction=False)
    run = manager.start(agent, QUESTION, report_template=TEMPLATE)
    await run.wait(120)
    assert run.state is RunState.COMPLETED, run.error
    outlines = llm.of_kind("outline")
    assert outlines and all("Market outlook for utilities" in r.text for r in outlines)
    assert "Market outlook for utilities" not in json.dumps([r.body for r in llm.of_kind("intent")])


async def test_a_failing_llm_is_reported_without_the_key(
    manager: RunManager, llm: StubLLM, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    agent = make_agent(llm, model="a-model-the-endpoint-does-not-serve")
    run = manager.start(agent, QUESTION)
    await run.wait(120)
    report = Report.from_run(run)
    assert run.state in (RunState.FAILED, RunState.COMPLETED)
    if run.state is RunState.COMPLETED:  # the SDK swallowed the failure: the report must say so
        assert run.notices or run.progress.notices, "an SDK step failed and nothing says so"
    for text in (str(run.error), report.markdown, json.dumps(report.doc), repr(run), caplog.text):
        assert key not in text
    assert files_containing(LOG_DIR, key) == []

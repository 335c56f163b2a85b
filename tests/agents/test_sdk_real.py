"""The SDK adapter against the real openJiuwen DeepSearch SDK: a full human-in-the-loop research.

The SDK's LLM is :class:`deepsearch_nb.testing.StubLLM` on 127.0.0.1 (it answers every request the SDK
0.1.11 makes well enough for a real report), its search is the project's local document search over
the shipped corpus (the SDK's ``custom`` engine), and :func:`loopback_only` fails the test on any other
host. Each run goes clarification -> answer -> outline -> ``revise_comment`` -> ``revise_outline``
with an edited outline -> accept -> sections -> report -> ``ALL END``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from deepsearch_nb import OpenJiuwenAgent, Report, RunState
from deepsearch_nb.agents import HitlAnswer
from deepsearch_nb.runtime import Run, RunManager
from deepsearch_nb.testing import HttpSends, StubLLM, tasks_left

from ._sdk_support import (
    QUESTION,
    SDK_MARKS,
    files_containing,
    guard,
    key,
    llm,
    make_agent,
    no_request_after,
    sends,
    workdir,
)

__all__ = ["guard", "key", "llm", "sends", "workdir"]  # fixtures used by name
pytestmark = SDK_MARKS

EDITED: dict[str, Any] = {
    "title": "Grid-scale battery storage for a utility",
    "thought": "The planner's own outline.",
    "sections": [
        {"id": "1", "title": "Capital and operating costs", "description": "What storage costs."},
        {"id": "2", "title": "Fire safety", "description": "How fires are prevented and fought."},
    ],
}


async def _answer(run: Run, answer: HitlAnswer | str, stage: str) -> None:
    assert await run.until_settled(120) is RunState.WAITING_USER_INPUT, run.error
    assert run.pending is not None and run.pending.stage.value == stage, run.pending
    run.submit(answer)


async def full_research(run: Run) -> None:
    """Answer every pause of a run the way the acceptance test does."""
    await _answer(run, "Focus on costs, fire safety and recycling in the United States.", "clarification")
    await _answer(run, "revise: add a section on supply chain risks", "outline_review")
    await _answer(run, HitlAnswer.replace_outline(json.dumps(EDITED)), "outline_review")
    await _answer(run, "accept", "outline_review")
    await run.wait(120)


async def test_a_full_hitl_research_through_the_run_manager(
    manager: RunManager, llm: StubLLM, key: str, tmp_path: Path
) -> None:
    agent = make_agent(llm)
    run = manager.start(agent, QUESTION)
    await full_research(run)
    assert run.state is RunState.COMPLETED, run.error
    progress = run.progress
    assert progress.all_end and not progress.error
    result = run.result
    assert result is not None
    report = result.response_content
    assert report.startswith("# ")
    assert "[citation:1]" in report and "# Reference Articles" in report
    for section in EDITED["sections"]:  # the outline the person wrote is the report's
        assert section["title"] in report
    assert "# Conclusion" in report  # English headings: the requested language
    assert [e.answer.feedback.value for e in run.exchanges] == [
        "accepted",
        "revise_comment",
        "revise_outline",
        "accepted",
    ]
    kinds = llm.kinds()
    assert kinds.count("questions") == 1 and kinds.count("outline") == 3 and "sub_report" in kinds
    # every SDK store of the conversation is empty, and the SDK left no task behind
    await manager.drain(10)
    assert await tasks_left() == []
    assert agent.sdk_sessions(run.conversation_id) == []
    # the key reached the LLM, and nothing else
    assert all(r.headers.get("authorization") == f"Bearer {key}" for r in llm.requests)
    doc = Report.from_run(run)
    assert key not in json.dumps(doc.doc) and key not in doc.markdown
    assert key not in repr(agent) and key not in json.dumps(agent.spec())
    assert files_containing(agent.sdk.log_dir, key) == []


async def test_the_report_records_the_agent_and_rebuilds_it(manager: RunManager, llm: StubLLM, key: str) -> None:
    from deepsearch_nb._agents._select import agent_from_spec

    agent = make_agent(llm, human_in_the_loop=False, outline_interaction=False)
    run = manager.start(agent, QUESTION)
    await run.wait(120)
    assert run.state is RunState.COMPLETED, run.error
    recorded: dict[str, Any] = Report.from_run(run).doc["agent"]["spec"]
    assert recorded["kind"] == "openjiuwen-sdk"
    assert recorded["config"]["api_key_env"] == "DEEPSEARCH_NB_TEST_LLM_KEY" and key not in json.dumps(recorded)
    rebuilt = agent_from_spec(recorded)
    assert isinstance(rebuilt, OpenJiuwenAgent)
    assert rebuilt.spec() == agent.spec() and rebuilt.secret_values() == [key]


@pytest.mark.parametrize("stage", ["clarification", "outline_review"])
async def test_cancel_right_at_a_pause_releases_every_store(
    manager: RunManager, llm: StubLLM, sends: HttpSends, key: str, stage: str
) -> None:
    agent = make_agent(llm)
    run = manager.start(agent, QUESTION)
    if stage == "outline_review":
        await _answer(run, "Focus on costs.", "clarification")
    assert await run.until_settled(120) is RunState.WAITING_USER_INPUT
    cancelled_at = time.monotonic()
    run.cancel()
    await run.wait(10)
    assert run.state is RunState.CANCELLED and not run.abandoned
    await manager.drain(10)
    no_request_after(sends, cancelled_at)
    assert await tasks_left() == []
    assert agent.sdk_sessions(run.conversation_id) == []


async def test_the_sdk_researches_the_analysts_own_documents(
    manager: RunManager, llm: StubLLM, key: str, tmp_path: Path
) -> None:
    """Finding 7: ``corpus=`` is the SDK's search engine; the report cites those files and nothing else."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tariffs.md").write_text(
        "# Storage tariffs in Ruritania\n\nRuritania pays batteries a capacity tariff of 40 crowns per kilowatt-year. "
        "The tariff covers costs and economics of storage for ten years.\n"
    )
    (docs / "fires.md").write_text(
        "# Battery fires in Ruritania\n\nRuritania requires safety and operations plans for every battery site. "
        "Fire crews train with each operator twice a year.\n"
    )
    agent = make_agent(llm, corpus=docs, human_in_the_loop=False, outline_interaction=False)
    run = manager.start(agent, "What should a Ruritanian utility know about storage?")
    await run.wait(120)
    assert run.state is RunState.COMPLETED, run.error
    sources = {(s.title, s.url) for s in run.progress.sources}
    assert sources and sources <= {
        ("Storage tariffs in Ruritania", "tariffs.md"),
        ("Battery fires in Ruritania", "fires.md"),
    }
    assert run.result is not None and "Ruritania" in run.result.response_content


async def test_the_corpus_search_engine_answers_like_a_web_engine() -> None:
    from deepsearch_nb._agents._sdk._search import CorpusSearch, register_corpus

    engine = CorpusSearch(extension={"corpus_key": register_corpus(None)}, max_web_search_results=3)
    hits = await engine.aresults("lithium iron phosphate battery fire safety")
    assert 1 <= len(hits) <= 3 and hits[0]["score"] == 1.0
    assert all(set(h) == {"title", "url", "content", "score"} and h["content"] for h in hits)
    assert await engine.aresults("zzzz qqqq") == []

"""Usage and budget (issue 15): tokens per stage exactly as the endpoint reported them, recorded in the
report and the transcript; a budget that runs out cancels the run through the normal cancel path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import deepsearch_nb
from deepsearch_nb import ConfigurationError, LocalResearchAgent
from deepsearch_nb.agents import DEMO_QUESTION
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import Hang, ScriptedAgent, StubLLM, report_round, until_chunks

ANSWERS = {"clarification": "costs and safety", "outline_review": ["accepted"]}


async def test_a_stubbed_llm_run_reports_the_stubs_token_counts_per_stage_exactly(tmp_path: Path) -> None:
    manager = RunManager()
    transcript = tmp_path / "run.jsonl"
    async with StubLLM() as stub:
        agent = LocalResearchAgent(llm={"base_url": stub.base_url, "model": stub.model})
        report = await deepsearch_nb.research(
            DEMO_QUESTION, agent=agent, answers=ANSWERS, manager=manager, display=False, transcript=transcript
        )
    assert report.status == "COMPLETED"
    calls = stub.of_kind("local_section")
    assert calls and all(r.body["stream_options"] == {"include_usage": True} for r in calls)
    sent = [stub.usage[r.n] for r in calls]  # what the endpoint said each call cost
    usage = report.doc["usage"]
    assert [(s["input_tokens"], s["output_tokens"]) for s in usage["stages"]] == sent
    assert all(s["stage"].startswith(f"section {k}: ") for k, s in enumerate(usage["stages"], start=1))
    assert all(s["calls"] == 1 for s in usage["stages"]) and usage["calls"] == len(calls)
    assert usage["input_tokens"] == sum(i for i, _ in sent) and usage["output_tokens"] == sum(o for _, o in sent)
    lines = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    recorded = [(u["stage"], u["input_tokens"], u["output_tokens"]) for u in lines if u["type"] == "usage"]
    assert recorded == [(s["stage"], s["input_tokens"], s["output_tokens"]) for s in usage["stages"]]
    assert lines[-1]["type"] == "end" and lines[-1]["usage"] == usage
    assert "budget" not in usage


async def test_a_token_budget_below_the_runs_need_cancels_it_with_a_partial_report() -> None:
    manager = RunManager()
    async with StubLLM() as stub:
        agent = LocalResearchAgent(llm={"base_url": stub.base_url, "model": stub.model})
        report = await deepsearch_nb.research(
            DEMO_QUESTION, agent=agent, answers=ANSWERS, manager=manager, display=False, transcript=False,
            budget_tokens=1,
        )  # fmt: skip
        assert len(stub.of_kind("local_section")) == 1  # the call that crossed the budget was the last
    assert report.status == "CANCELLED"
    doc = report.doc
    assert doc["error"].startswith("The run was cancelled (budget reached: ")
    assert "The report below is what was written before it stopped." in doc["error"]
    assert doc["report_markdown"].strip()  # the partial report is kept
    assert doc["usage"]["budget"]["tokens"] == 1 and doc["usage"]["budget"]["reached"].endswith("tokens used of 1")
    await manager.drain(timeout=10)
    assert manager.stats().is_idle


async def test_a_time_budget_cancels_a_run_that_goes_on_too_long() -> None:
    manager = RunManager()
    chunks = report_round(["Tea began in China [citation:1]."], sources=[("Tea", "https://example.org/t")])[:-2]
    run_agent = ScriptedAgent([*chunks, Hang()])
    handle = deepsearch_nb.research(
        "How did tea spread?", agent=run_agent, manager=manager, display=False, transcript=False, budget_s=0.2
    )
    await until_chunks(handle.run, len(chunks))
    report = await handle
    assert report.status == "CANCELLED" and handle.run.cancel_reason == "budget reached: 0.2 s of running time"
    assert "Tea began in China" in report.markdown
    assert report.doc["usage"]["budget"] == {"tokens": None, "seconds": 0.2, "reached": "0.2 s of running time"}
    await manager.drain(timeout=10)
    assert manager.stats().is_idle


@pytest.mark.parametrize("options", [{"budget_tokens": -1}, {"budget_tokens": 1.5}, {"budget_s": float("nan")}])
async def test_a_wrong_budget_is_refused_before_the_run_starts(options: dict[str, object]) -> None:
    manager = RunManager()
    with pytest.raises(ConfigurationError, match="budget"):
        deepsearch_nb.research("q", manager=manager, display=False, transcript=False, **options)  # type: ignore[arg-type]
    assert manager.stats().live_runs == 0  # nothing started


SDK_USAGE = {
    "input_tokens": 1500,
    "output_tokens": 300,
    "total_tokens": 1800,
    "llm_call_count": 3,
    "agent_name_token_usage": [
        {
            "agent_name": "planner",
            "input_tokens": 1000,
            "output_tokens": 100,
            "total_tokens": 1100,
            "llm_call_count": 2,
        },
        {"agent_name": "reporter", "input_tokens": 500, "output_tokens": 200, "total_tokens": 700, "llm_call_count": 1},
    ],
}


async def test_an_sdk_final_results_token_usage_is_the_reports_usage_per_sdk_agent() -> None:
    chunks = report_round(["Tea began in China [citation:1]."], sources=[("Tea", "https://example.org/t")])
    for chunk in chunks:
        if chunk["agent"] == "end" and chunk["content"].startswith("{"):
            result = json.loads(chunk["content"])
            chunk["content"] = json.dumps({**result, "workflow_llm_token_usage": SDK_USAGE})
    manager = RunManager()
    report = await deepsearch_nb.research(
        "How did tea spread?", agent=ScriptedAgent(chunks), manager=manager, display=False, transcript=False
    )
    assert report.status == "COMPLETED"
    assert report.doc["usage"] == {
        "input_tokens": 1500,
        "output_tokens": 300,
        "calls": 3,
        "stages": [
            {"stage": "planner", "input_tokens": 1000, "output_tokens": 100, "calls": 2},
            {"stage": "reporter", "input_tokens": 500, "output_tokens": 200, "calls": 1},
        ],
    }

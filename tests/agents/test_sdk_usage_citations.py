"""Issue 15 on the real openJiuwen SDK (against StubLLM on 127.0.0.1): the report's tokens are the SDK's
own count of its model client's usage, and its citations are checked through its references list."""

from __future__ import annotations

from deepsearch_nb import RunState, research
from deepsearch_nb.runtime import RunEvent, RunManager, UsageReported
from deepsearch_nb.testing import StubLLM, tasks_left

from ._sdk_support import QUESTION, SDK_MARKS, guard, key, llm, make_agent, workdir

__all__ = ["guard", "key", "llm", "workdir"]  # fixtures used by name
pytestmark = SDK_MARKS


async def test_an_sdk_report_counts_the_stubs_tokens_and_checks_its_references(
    manager: RunManager, llm: StubLLM, key: str
) -> None:
    agent = make_agent(llm)
    answers = ["Focus on costs and fire safety.", "accept"]
    handle = research(QUESTION, agent=agent, answers=answers, manager=manager, display=False)
    report = await handle
    assert report.status == "COMPLETED", report.error
    usage = report.doc["usage"]
    sent = list(llm.usage.values())  # every streamed call's usage, exactly as the stub sent it
    assert sent and usage["input_tokens"] == sum(i for i, _ in sent)
    assert usage["output_tokens"] == sum(o for _, o in sent)
    assert usage["stages"] and all(s["stage"] for s in usage["stages"])
    check = report.citation_check
    assert check["citations"] > 0, report.markdown[:500]
    assert check["counts"]["unverifiable"] == 0  # the references are corpus documents, read again
    assert (
        check["counts"]["verified"] + check["counts"]["weak"] + check["counts"]["missing_source"] == check["citations"]
    )
    listed = {s.index for s in report.sources}
    for n, evidence in report.doc["evidence"].items():  # a number the references list lacks is missing
        assert evidence["kind"] == ("local" if int(n) in listed else "missing"), (n, evidence)
        assert bool(evidence["passages"]) == (int(n) in listed)
    missing = [m for m in check["markers"] if m["n"] not in listed]
    assert check["counts"]["missing_source"] >= len(missing)


async def test_the_sdks_tokens_arrive_call_by_call_while_it_runs(manager: RunManager, llm: StubLLM, key: str) -> None:
    """Each SDK LLM call's tokens reach the run as the SDK counts them, not only in the final result."""
    agent = make_agent(llm)
    run = manager.start(agent, QUESTION)
    live: list[tuple[str, int, int]] = []

    def on_event(event: RunEvent) -> None:
        if isinstance(event, UsageReported) and run.progress.final_result is None:
            live.append((event.usage.stage, event.usage.input_tokens, event.usage.output_tokens))

    run.subscribe(on_event)
    for answer in ("Focus on costs.", "accept"):
        assert await run.until_settled(120) is RunState.WAITING_USER_INPUT, run.error
        assert live, "no token usage reached the run before its pause"
        run.submit(answer)
    assert await run.until_settled(120) is RunState.COMPLETED, run.error
    sent = list(llm.usage.values())
    assert sum(i for _, i, _ in live) == sum(i for i, _ in sent) == run.usage["input_tokens"]  # counted once
    assert sum(o for _, _, o in live) == sum(o for _, o in sent) == run.usage["output_tokens"]
    assert {"plan_reasoning", "sub_reporter"} <= {stage for stage, _, _ in live}


async def test_a_token_budget_stops_an_sdk_run_mid_way(manager: RunManager, llm: StubLLM, key: str) -> None:
    agent = make_agent(llm)
    answers = ["Focus on costs.", "accept"]
    handle = research(QUESTION, agent=agent, answers=answers, manager=manager, display=False, budget_tokens=1)
    report = await handle
    assert report.status == "CANCELLED"
    assert report.doc["error"].startswith("The run was cancelled (budget reached: ")
    assert report.doc["usage"]["budget"]["reached"].endswith("tokens used of 1")
    assert len(llm.usage) < 5  # stopped after the call that crossed the budget, not at the end of a research
    await manager.drain(10)
    assert await tasks_left() == []
    assert agent.sdk_sessions(handle.conversation_id) == []

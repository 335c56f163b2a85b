"""Issue 15 on the real openJiuwen SDK (against StubLLM on 127.0.0.1): the report's tokens are the SDK's
own count of its model client's usage, and its citations are checked through its references list."""

from __future__ import annotations

from deepsearch_nb import research
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import StubLLM

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

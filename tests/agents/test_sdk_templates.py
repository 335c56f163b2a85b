"""The real openJiuwen SDK gets the template given to ``research(template=...)`` (issue 17): a shipped
template by name reaches the SDK's outline request (stub LLM on 127.0.0.1), and the report records it."""

from __future__ import annotations

import json

from deepsearch_nb import research
from deepsearch_nb.agents import resolve_template
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import StubLLM

from ._sdk_support import QUESTION, SDK_MARKS, guard, key, llm, make_agent, workdir

__all__ = ["guard", "key", "llm", "workdir"]  # fixtures used by name
pytestmark = SDK_MARKS


async def test_the_sdk_outline_request_carries_a_named_template(manager: RunManager, llm: StubLLM, key: str) -> None:
    agent = make_agent(llm, human_in_the_loop=False, outline_interaction=False)
    assessment = resolve_template("technology-assessment")
    report = await research(
        QUESTION, agent=agent, template="technology-assessment", manager=manager, display=False, transcript=False
    )
    assert report.status == "COMPLETED", report.error
    outlines = llm.of_kind("outline")
    assert outlines, "the SDK asked for no outline"
    for request in outlines:  # every heading of the template, in the outline prompt
        assert all(section in request.text for section in assessment.sections)
        assert "Capabilities and Limits" in json.dumps(request.body, ensure_ascii=False)
    assert "Capabilities and Limits" not in json.dumps([r.body for r in llm.of_kind("intent")])
    assert report.doc["template"]["name"] == "technology-assessment"
    assert report.doc["template"]["sha256"] == assessment.sha256

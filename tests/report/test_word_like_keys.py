"""Issue 9, finding 9, end to end: a key that is an ordinary word leaves the report intact.

With ``api_key="battery"`` the old scrubber masked 13 places, the saved question and title included (so
``reproduce()`` researched another question), and ``"storage"`` broke source URLs.
"""

from __future__ import annotations

import json

import pytest

from deepsearch_nb import LocalResearchAgent, Report, RunState
from deepsearch_nb.agents import DEMO_QUESTION
from deepsearch_nb.runtime import RunManager

NO_STOPS = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}


async def _report(manager: RunManager, agent: LocalResearchAgent, config: dict[str, object]) -> Report:
    run = manager.start(agent, DEMO_QUESTION, conversation_id="same", agent_config={**NO_STOPS, **config})
    await run.wait(timeout=30)
    assert run.state is RunState.COMPLETED
    return Report.from_run(run)


@pytest.mark.parametrize("word", ["battery", "storage", "grid"])
async def test_finding9_a_word_like_key_leaves_question_title_text_and_sources_intact(
    manager: RunManager, word: str
) -> None:
    agent = LocalResearchAgent()
    plain = await _report(manager, agent, {})
    keyed = await _report(manager, agent, {"llm_config": {"api_key": word}})
    assert word in DEMO_QUESTION.lower() or word in plain.markdown.lower()
    assert keyed.question == plain.question == DEMO_QUESTION
    assert keyed.title == plain.title
    assert keyed.doc["report_markdown"] == plain.doc["report_markdown"]
    assert [s.url for s in keyed.sources] == [s.url for s in plain.sources]
    assert keyed.doc["agent"]["config"]["llm_config"] == {"api_key": "***"}  # the key itself is still masked
    assert word not in json.dumps(keyed.doc["agent"]["config"])

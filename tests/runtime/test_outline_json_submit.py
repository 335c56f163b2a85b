"""Issue 9, finding 11 (part): ``run.submit`` of broken outline JSON keeps the run paused; nothing is lost."""

from __future__ import annotations

import pytest

from deepsearch_nb import InvalidInputError, RunState
from deepsearch_nb.agents import HitlStage
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import ScriptedAgent, outline_round, report_round

OUTLINE = {"title": "Theirs", "sections": [{"title": "Origins"}]}


async def test_finding11_broken_outline_json_is_refused_and_the_run_stays_paused(manager: RunManager) -> None:
    agent = ScriptedAgent(outline_round(OUTLINE), report_round(["Text."]))
    run = manager.start(agent, "How did tea spread?")
    await run.until_settled(timeout=5)
    assert run.pending is not None and run.pending.stage is HitlStage.OUTLINE_REVIEW
    with pytest.raises(InvalidInputError, match=r"not valid JSON: .* line 1, column 43"):
        run.submit('{"title":"Mine","sections":[{"title":"A"},]}')
    assert run.state is RunState.WAITING_USER_INPUT and run.pending is not None
    assert len(agent.calls) == 1  # nothing reached the agent
    run.submit('{"title":"Mine","sections":[{"title":"A"}]}')  # fixed: it is the user's outline that goes on
    await run.wait(timeout=5)
    assert agent.calls[1].interrupt_feedback == "revise_outline" and '"Mine"' in agent.calls[1].message

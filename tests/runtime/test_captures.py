"""The captured openJiuwen streams, replayed through the manager round by round."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepsearch_nb import ReplayAgent, RunState
from deepsearch_nb.agents import HitlStage
from deepsearch_nb.runtime import RunManager

CAPTURES = sorted((Path(__file__).parents[1] / "data" / "captures").glob("chunks_*.jsonl"))


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.stem)
async def test_every_capture_runs_to_its_real_ending(manager: RunManager, path: Path) -> None:
    agent = ReplayAgent.from_jsonl(path)
    run = manager.start(agent, "A short history of tea")
    while (await run.until_settled()) is RunState.WAITING_USER_INPUT:
        assert run.pending is not None
        if run.pending.stage is HitlStage.CLARIFICATION:
            run.submit("China and the Silk Road")
        else:
            assert run.pending.outline is not None
            run.submit("revise: shorter" if run.pending.round == 1 else "accept")
    assert run.malformed == []
    assert len(run.chunks) == sum(len(r) for r in agent.rounds)
    if path.stem == "chunks_success":
        assert run.state is RunState.COMPLETED
        assert run.result is not None and len(run.result.sources()) == 6
        assert run.progress.sections_done == {"1", "2"}
        assert "[citation:1]" in run.report_markdown
    else:  # the stub LLM's sub-reports were unusable: the real agent ended with an error result
        assert run.state is RunState.FAILED
        assert run.error is not None and "[212000]" in run.error


async def test_a_transcript_with_no_round_left_answers_with_a_framework_error(manager: RunManager) -> None:
    agent = ReplayAgent(
        [
            [
                {
                    "agent": "feedback_handler",
                    "event": "waiting_user_input",
                    "content": "?",
                    "message_type": "interrupt",
                    "conversation_id": "x",
                }
            ]
        ]
    )
    run = manager.start(agent, "q")
    await run.until_settled()
    run.submit("answer")
    await run
    assert run.state is RunState.FAILED
    assert run.error is not None and "only 1 round" in run.error

"""``research()``, its handle, scripted answers, the headless timeout and ``research_sync``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from deepsearch_nb import (
    ConfigurationError,
    HitlTimeout,
    InvalidInputError,
    RunState,
    RunStateError,
    reproduce,
    research,
    research_sync,
    stats,
)
from deepsearch_nb._ui import _research
from deepsearch_nb.agents import HitlAnswer, HitlStage
from deepsearch_nb.runtime import RunManager, ScriptedAnswers, default_manager
from deepsearch_nb.testing import CommRecorder, ScriptedAgent, clarification, outline_round, report_round

OUTLINE = {"title": "Storage", "sections": [{"title": "Costs"}]}


def agent() -> ScriptedAgent:
    return ScriptedAgent(
        clarification(),
        outline_round(OUTLINE),
        outline_round(OUTLINE, round_no=2),
        report_round(["Costs fell."], sources=[("Doc", "https://example.org/doc")]),
    )


# --- scripted answers ----------------------------------------------------------------------------


def test_answers_in_order_whatever_the_stage() -> None:
    answers = ScriptedAnswers(["Europe", "revise: add costs", "accept"])
    assert answers.next_for(HitlStage.CLARIFICATION) == HitlAnswer.answer("Europe")
    assert answers.next_for(HitlStage.OUTLINE_REVIEW) == HitlAnswer.revise("add costs")
    assert answers.next_for(HitlStage.OUTLINE_REVIEW) == HitlAnswer.accept()
    assert answers.next_for(HitlStage.OUTLINE_REVIEW) is None


def test_answers_per_stage() -> None:
    answers = ScriptedAnswers({"outline_review": ["add a costs section", "accept"], "clarification": "Europe"})
    assert answers.next_for(HitlStage.OUTLINE_REVIEW) == HitlAnswer.revise("add a costs section")
    assert answers.next_for(HitlStage.CLARIFICATION) == HitlAnswer.answer("Europe")
    assert answers.next_for(HitlStage.CLARIFICATION) is None
    assert answers.remaining == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"clarify": "x"}, "unknown stage 'clarify'"),
        ({"clarification": 3}, "must be an answer or a list"),
        ([["nested"]], r"answers\[0\] is a list"),
        ("accept", "must be a list"),
        (42, "must be a list"),
    ],
)
def test_malformed_answers_fail_before_the_run(value: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        ScriptedAnswers(value)


# --- the handle -------------------------------------------------------------------------------------


async def test_scripted_run_returns_the_report(manager: RunManager) -> None:
    the_agent = agent()
    handle = research(
        "What is grid storage?",
        agent=the_agent,
        manager=manager,
        answers={"clarification": "Europe", "outline_review": ["revise: shorter", "accept"]},
    )
    assert handle.panel is None  # not in a kernel: nothing to display
    with pytest.raises(RunStateError, match="still"):
        handle.result()
    report = await handle
    assert report.status == "COMPLETED" and handle.done() and handle.result() is report
    assert [c.interrupt_feedback for c in the_agent.calls] == ["", "accepted", "revise_comment", "accepted"]
    assert [h["feedback"] for h in report.doc["hitl"]] == ["accepted", "revise_comment", "accepted"]
    assert await handle is report  # awaiting again gives the same report
    assert "COMPLETED" in repr(handle)


async def test_a_saved_report_reproduces_with_its_answers_and_without_masked_secrets(
    manager: RunManager, tmp_path: Any
) -> None:
    config = {"llm_config": {"general": {"model_name": "m", "api_key": "sk-reproduce-0123456789"}}, "depth": 2}
    answers = {"clarification": "Europe", "outline_review": ["revise: shorter", "accept"]}
    first = await research(
        "What is grid storage?", agent=agent(), manager=manager, answers=answers, agent_config=config
    )
    path = first.save(tmp_path / "report.json")
    again_agent = agent()
    second = await reproduce(path, agent=again_agent, manager=manager)
    assert second.markdown == first.markdown and second.doc["hitl"] == first.doc["hitl"]
    assert [(c.interrupt_feedback, c.message) for c in again_agent.calls[1:]] == [
        ("accepted", "Europe"),
        ("revise_comment", "shorter"),
        ("accepted", ""),
    ]
    # "***" placeholders are not sent: they would override the key of an agent that has its own
    assert again_agent.calls[0].agent_config == {"llm_config": {"general": {"model_name": "m"}}, "depth": 2}


async def test_an_answer_that_does_not_fit_fails_clearly(manager: RunManager) -> None:
    handle = research("q", agent=agent(), manager=manager, answers=["revise: at the clarification?"])
    with pytest.raises(InvalidInputError, match="does not fit the clarification question"):
        await handle
    assert handle.state is RunState.CANCELLED
    assert handle.report is not None and "does not fit" in (handle.report.error or "")


async def test_headless_stop_without_answer_times_out(manager: RunManager) -> None:
    handle = research("q", agent=agent(), manager=manager, answers=["Europe"], answer_timeout=0.2)
    with pytest.raises(HitlTimeout) as caught:
        await handle
    message = str(caught.value)
    assert "outline_review question within 0.2 s" in message
    assert "answers=" in message and "answer_timeout=None" in message
    assert handle.state is RunState.CANCELLED
    assert handle.report is not None and handle.report.status == "CANCELLED"
    assert "no answer" in (handle.report.error or "")


async def test_auto_timeout_fails_fast_without_a_browser(
    manager: RunManager, recorder: CommRecorder, screen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_research, "HEADLESS_ANSWER_TIMEOUT_S", 0.2)
    handle = research("q", agent=agent(), manager=manager)
    with pytest.raises(HitlTimeout, match="no browser is showing the panel"):
        await handle
    assert screen.calls[-1][2]["application/vnd.deepsearch.report+json"]["status"] == "CANCELLED"


async def test_auto_timeout_waits_for_a_person_once_a_browser_shows_the_panel(
    manager: RunManager, recorder: CommRecorder, screen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_research, "HEADLESS_ANSWER_TIMEOUT_S", 0.2)
    handle = research("q", agent=agent(), manager=manager)
    assert handle.panel is not None
    # What the stream view's JavaScript sends when it renders in a browser.
    recorder.deliver(handle.panel.stream.model_id, {"method": "custom", "content": {"event": "view"}})
    await handle.run.until_settled()
    await asyncio.sleep(0.5)
    assert handle.state is RunState.WAITING_USER_INPUT and not handle.done()
    handle.submit("Europe")
    for _ in range(2):  # the scripted agent proposes the outline twice
        await handle.run.until_settled()
        handle.submit("accept")
    report = await asyncio.wait_for(handle._wait(), 5)
    assert report.status == "COMPLETED"


async def test_explicit_timeout_none_waits_for_submit(manager: RunManager) -> None:
    handle = research("q", agent=agent(), manager=manager, answer_timeout=None)
    await handle.run.until_settled()
    await asyncio.sleep(0.3)
    assert not handle.done()
    handle.cancel()
    report = await handle
    assert report.status == "CANCELLED"


async def test_stopping_the_awaiting_cell_stops_the_run(manager: RunManager) -> None:
    handle = research("q", agent=agent(), manager=manager, answer_timeout=None)
    waiter = asyncio.ensure_future(handle._wait())
    await handle.run.until_settled()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    report = await handle
    assert report.status == "CANCELLED"


@pytest.mark.parametrize("value", [-1, "soon", True])
async def test_answer_timeout_is_checked(value: Any, manager: RunManager) -> None:
    with pytest.raises(ConfigurationError, match="answer_timeout"):
        research("q", agent=agent(), manager=manager, answer_timeout=value)


def test_research_needs_a_running_loop() -> None:
    with pytest.raises(RunStateError, match="research_sync"):
        research("q", agent=agent())


def test_research_sync_in_a_script() -> None:
    manager = RunManager()
    report = research_sync("q", agent=agent(), manager=manager, answers=["Europe", "accept", "accept"])
    assert report.status == "COMPLETED"
    assert stats(manager).is_idle


def test_research_sync_inside_a_running_loop_patches_only_then() -> None:
    """A plain call in a notebook cell: nest-asyncio is applied lazily, never at import."""
    code = textwrap.dedent(
        """
        import asyncio, sys
        import deepsearch_nb._ui as ui
        from deepsearch_nb.testing import ScriptedAgent, report_round
        assert "nest_asyncio2" not in sys.modules and "nest_asyncio" not in sys.modules

        async def cell():
            return ui.research_sync("q", agent=ScriptedAgent(report_round(["Done."])))

        report = asyncio.run(cell())
        assert "nest_asyncio2" in sys.modules
        print(report.status)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "COMPLETED"


def test_stats_reads_the_default_manager() -> None:
    assert stats() == default_manager().stats()

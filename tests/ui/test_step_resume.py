"""Picking a stepped run up from its transcript, and forking one at a pause (issue 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import deepsearch_nb
from deepsearch_nb import DEMO_QUESTION, HitlTimeout, compare, research, resume
from deepsearch_nb.runtime import RunManager, RunState

pytestmark = pytest.mark.asyncio

CONFIG = {"outliner_max_section_num": 2, "outline_interaction_enabled": False}
CLARIFY = "Focus on costs and fire safety."
# Every stop of the stepped demo run, in order, with one edit at the source gate of section 1.
STOPS = [CLARIFY, "continue", "continue", "drop: 1", "continue", "continue", "continue", "continue", "continue"]


async def stop_after(handle: Any, answered: int) -> str:
    """Wait (up to 30 s) for the stop that comes after ``answered`` answers; returns its label."""
    run = handle.run
    for _ in range(3000):
        pending = run.pending
        if run.state is RunState.WAITING_USER_INPUT and pending is not None and len(run.exchanges) == answered:
            return str(pending.step.label if pending.step is not None else pending.stage.value)
        assert not run.state.terminal, (run.state, run.error)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no stop after {answered} answers")


def stepped(manager: RunManager, answers: list[str], **options: Any) -> Any:
    """The stepped demo run with these answers (a headless run gives up 0.2 s after the last one)."""
    options.setdefault("answer_timeout", 0.2)
    return research(
        DEMO_QUESTION, agent_config=CONFIG, step=True, answers=answers, manager=manager, display=False, **options
    )


async def test_a_headless_stop_names_the_line_that_resumes_it(tmp_path: Path) -> None:
    manager = RunManager()
    path = tmp_path / "paused.jsonl"
    handle = stepped(manager, STOPS[:4], transcript=path)
    with pytest.raises(HitlTimeout) as caught:
        await handle
    line = f"deepsearch_nb.resume({str(path)!r})"
    assert line in str(caught.value)
    assert handle.report is not None and handle.report.doc["transcript"] == str(path)

    again = resume(path, manager=manager, display=False, answer_timeout=None, transcript=tmp_path / "r.jsonl")
    assert await stop_after(again, 4) == "section 1 of 2: section"  # the stop nobody answered, same history
    assert again.run.step
    for number, answer in enumerate(STOPS[4:], start=4):
        await stop_after(again, number)
        again.run.submit(answer)
    resumed = await again

    unbroken = await stepped(manager, STOPS, transcript=False)
    assert resumed.doc["status"] == "COMPLETED"
    assert resumed.doc["report_markdown"] == unbroken.doc["report_markdown"]
    assert compare(unbroken, resumed).identical


async def test_resume_from_a_saved_report_of_a_paused_run(tmp_path: Path) -> None:
    manager = RunManager()
    handle = stepped(manager, STOPS[:2], transcript=False)
    with pytest.raises(HitlTimeout):
        await handle
    assert handle.report is not None
    saved = tmp_path / "paused.json"
    handle.report.save(saved)
    again = resume(saved, manager=manager, display=False, answer_timeout=None, transcript=False)
    assert await stop_after(again, 2) == "section 1 of 2: plan"
    again.cancel()
    await again


async def test_a_fork_at_the_outline_gives_two_live_runs_and_a_comparison() -> None:
    manager = RunManager()
    first = stepped(manager, [CLARIFY], answer_timeout=None, transcript=False)
    assert await stop_after(first, 1) == "outline"
    edit = {"action": "edit_plan", "title": "Thermal runaway", "description": "Thermal runaway and fire codes."}
    second = first.fork()
    assert first.forks == [second] and second.run.conversation_id != first.run.conversation_id
    assert await stop_after(second, 1) == "outline"  # the shared history, replayed
    assert [r.state for r in (first.run, second.run)] == [RunState.WAITING_USER_INPUT] * 2
    assert manager.stats().step_pauses == 2
    first.run.submit("run to end")
    second.run.submit("continue")
    assert await stop_after(second, 2) == "section 1 of 2: plan"
    second.run.submit(edit)  # the other path: section 1 planned differently
    await stop_after(second, 3)
    second.run.submit("run to end")
    a, b = await first, await second
    assert a.doc["status"] == b.doc["status"] == "COMPLETED"
    comparison = compare(a, b)
    assert not comparison.identical
    assert "# 1. Thermal runaway" in b.doc["report_markdown"]
    assert "Thermal runaway" not in a.doc["report_markdown"].split("# Abstract")[0]
    assert hasattr(deepsearch_nb, "resume")

"""Step mode (issue 14): the runtime's own pauses at stage boundaries, and the local agent's edits there."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from deepsearch_nb import DEMO_QUESTION, HitlTimeout, LocalResearchAgent, compare, reproduce, research
from deepsearch_nb.agents import HitlAnswer, ReplayAgent
from deepsearch_nb.runtime import Run, RunManager, RunState

pytestmark = pytest.mark.asyncio

CONFIG = {"outliner_max_section_num": 2, "outline_interaction_enabled": False}
CLARIFY = "Focus on costs and fire safety."


async def pause(run: Run) -> Any:
    state = await run.until_settled(30)
    assert state is RunState.WAITING_USER_INPUT, (state, run.error)
    assert run.pending is not None
    return run.pending


async def step_to_end(run: Run, edits: dict[str, Any] | None = None) -> list[str]:
    """Answer every stop ('continue', or the edit for that label); returns the labels visited."""
    seen: list[str] = []
    while True:
        state = await run.until_settled(30)
        if state.terminal:
            return seen
        request = run.pending
        assert request is not None
        label = request.step.label if request.step is not None else request.stage.value
        seen.append(label)
        answer = (edits or {}).pop(label, None)
        if answer is None:
            answer = CLARIFY if request.stage == "clarification" else "continue"
        run.submit(answer)


async def test_a_stepped_local_run_visits_every_boundary_and_completes() -> None:
    manager = RunManager()
    run = manager.start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
    request = await pause(run)
    assert request.stage == "clarification"  # the agent's own stop covers "after the questions"
    run.submit(CLARIFY)
    request = await pause(run)
    assert request.stage == "step" and request.step is not None and request.step.kind == "outline"
    stats = manager.stats()
    assert (stats.paused_sessions, stats.step_pauses, run.state) == (1, 1, RunState.WAITING_USER_INPUT)
    await manager.drain(5)  # a held round is paused, not streaming: drain does not wait for it
    run.submit("continue")
    seen = await step_to_end(run)
    assert seen == [
        "section 1 of 2: plan",
        "section 1 of 2: sources",
        "section 1 of 2: section",
        "section 2 of 2: plan",
        "section 2 of 2: sources",
        "section 2 of 2: section",
        "report",
    ]
    assert run.state is RunState.COMPLETED
    assert [e.request.stage.value for e in run.exchanges].count("step") == 8
    await manager.drain(5)
    assert manager.stats().is_idle


async def test_an_unstepped_run_is_unchanged_by_step_points() -> None:
    plain = RunManager().start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG)
    stepped = RunManager().start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
    for run in (plain, stepped):
        await pause(run)
        run.submit(CLARIFY)
    await plain.wait(30)
    await step_to_end(stepped)
    assert stepped.report_markdown == plain.report_markdown


async def test_run_to_end_leaves_step_mode() -> None:
    run = RunManager().start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
    await pause(run)
    run.submit(CLARIFY)
    await pause(run)
    run.submit("run to end")
    await run.wait(30)
    assert run.state is RunState.COMPLETED and not run.step


async def test_a_source_dropped_at_the_gate_is_not_cited_nor_listed() -> None:
    run = RunManager().start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
    await pause(run)
    run.submit(CLARIFY)
    while True:
        request = await pause(run)
        if request.step is not None and request.step.kind == "sources":
            break
        run.submit("continue")
    gate = request.step.sources
    assert gate and all(s.title and s.where and s.passage for s in gate)
    dropped = gate[0]
    with pytest.raises(Exception, match="does not fit"):
        run.submit(HitlAnswer.step({"action": "rewrite", "instructions": "shorter"}))  # an edit for another stage
    run.submit(f"drop: {dropped.url}")
    await step_to_end(run)
    assert run.state is RunState.COMPLETED
    result = run.result
    assert result is not None
    assert dropped.url not in [s.url for s in result.sources()]
    assert dropped.url not in [str(c.get("url")) for c in result.citation_messages.values()]


async def test_an_edited_plan_changes_that_section() -> None:
    async def section_one(edit: dict[str, Any] | None) -> str:
        run = RunManager().start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
        await step_to_end(run, {"clarification": None, **({"section 1 of 2: plan": edit} if edit else {})})
        assert run.state is RunState.COMPLETED
        return run.progress.section_text["1"]

    plain = await section_one(None)
    edit = {"action": "edit_plan", "title": "Fire safety", "description": "Thermal runaway and fire codes."}
    edited = await section_one(edit)
    assert edited != plain and edited.startswith("# Fire safety")


async def test_a_rewrite_follows_its_instructions() -> None:
    run = RunManager().start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
    await step_to_end(run, {"section 1 of 2: section": "rewrite: recycling and second life of used cells"})
    plain = RunManager().start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
    await step_to_end(plain)
    assert run.progress.section_text["1"] != plain.progress.section_text["1"]
    assert any(
        e.request.step and e.request.step.kind == "section" and "rewrite" in e.answer.message for e in run.exchanges
    )


async def test_cancel_at_a_step_pause_leaves_the_manager_idle() -> None:
    manager = RunManager()
    run = manager.start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
    await pause(run)
    run.submit(CLARIFY)
    await pause(run)
    run.cancel()
    await run.wait(10)
    assert run.state is RunState.CANCELLED
    await manager.drain(5)
    assert manager.stats().is_idle, manager.stats()


async def test_eviction_at_a_step_pause_leaves_the_manager_idle() -> None:
    manager = RunManager(hitl_capacity=1)
    first = manager.start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
    await pause(first)
    first.submit(CLARIFY)
    assert (await pause(first)).stage == "step"
    second = manager.start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG, step=True)
    await pause(second)  # the second paused run evicts the first, held at its step pause
    await first.wait(10)
    assert first.state is RunState.CANCELLED and "evicted" in (first.cancel_reason or "")
    second.cancel()
    await second.wait(10)
    await manager.drain(5)
    assert manager.stats().is_idle, manager.stats()


async def test_the_answer_timeout_works_at_a_step_pause(tmp_path: Any) -> None:
    handle = research(
        DEMO_QUESTION,
        agent_config=CONFIG,
        step=True,
        answers=[CLARIFY],
        answer_timeout=0.2,
        manager=RunManager(),
        display=False,
        transcript=tmp_path / "t.jsonl",
    )
    with pytest.raises(HitlTimeout):
        await handle
    assert handle.run.state is RunState.CANCELLED


async def test_an_agent_without_step_points_is_held_between_chunks() -> None:
    source = RunManager().start(LocalResearchAgent(), DEMO_QUESTION, agent_config=CONFIG)
    await pause(source)
    source.submit(CLARIFY)
    await source.wait(30)
    rounds = [list(source.chunks[r.first_chunk : (nxt.first_chunk if nxt else None)]) for r, nxt in _pairs(source)]
    replay = ReplayAgent([[c.to_wire() for c in chunks] for chunks in rounds])
    run = RunManager().start(replay, DEMO_QUESTION, step=True)
    seen = await step_to_end(run, {"clarification": CLARIFY})
    assert run.state is RunState.COMPLETED, run.error
    assert seen[:2] == ["clarification", "outline"]
    assert {"section 1 of 2: plan", "section 1 of 2: sources", "section 2 of 2: section", "report"} <= set(seen)
    assert run.report_markdown == source.report_markdown


def _pairs(run: Run) -> list[tuple[Any, Any]]:
    rounds = list(run.rounds)
    return list(zip(rounds, [*rounds[1:], None], strict=True))


async def test_step_edits_are_in_the_report_and_reproduce_repeats_them(tmp_path: Any) -> None:
    manager = RunManager()
    handle = research(
        DEMO_QUESTION,
        agent_config=CONFIG,
        step=True,
        manager=manager,
        display=False,
        answer_timeout=None,
        transcript=tmp_path / "a.jsonl",
    )
    await step_to_end(handle.run, {"section 2 of 2: sources": "drop: 1"})
    report = await handle
    steps = [h for h in report.doc["hitl"] if h["stage"] == "step"]
    assert any(h["step"]["kind"] == "sources" and "drop_sources" in h["message"] for h in steps)
    again = await reproduce(report, manager=manager, display=False, transcript=tmp_path / "b.jsonl")
    assert again.doc["report_markdown"] == report.doc["report_markdown"]
    assert compare(report, again).identical
    await asyncio.sleep(0)

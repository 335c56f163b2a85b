"""The run manager on a real event loop: runs, HITL, cancellation, eviction, failures, threads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from deepsearch_nb import InvalidInputError, RunState, RunStateError
from deepsearch_nb.agents import HitlAnswer, HitlStage
from deepsearch_nb.runtime import (
    AnswerSubmitted,
    CancelOutcome,
    ChunkReceived,
    HitlRequested,
    MalformedChunkReceived,
    RunEvent,
    RunManager,
    StateChanged,
)
from deepsearch_nb.testing import (
    Hang,
    IgnoreCancel,
    Pause,
    Raise,
    ScriptedAgent,
    WaitFor,
    all_end,
    chunk,
    clarification,
    final_result,
    outline_round,
    report_round,
    tokens,
)

OUTLINE = {"title": "Grid storage", "sections": [{"title": "Costs"}, {"title": "Safety"}]}
SOURCES = [("Lithium costs", "docs/costs.md"), ("Fire safety", "docs/safety.md")]


def hitl_agent(*extra_outline_rounds: list[dict[str, object]]) -> ScriptedAgent:
    return ScriptedAgent(
        clarification(),
        outline_round(OUTLINE),
        *extra_outline_rounds,
        report_round(["Costs fell [citation:1].", "Fires are rare [citation:2]."], sources=SOURCES),
    )


async def test_a_full_run_completes_with_the_report(manager: RunManager) -> None:
    agent = ScriptedAgent(report_round(["Only section [citation:1]."], sources=SOURCES[:1], accepted=False))
    run = manager.start(agent, "How cheap is storage?")
    assert run.state is RunState.RUNNING
    await run
    assert run.state is RunState.COMPLETED
    assert run.error is None
    assert run.result is not None and "Only section" in run.result.response_content
    assert [s.url for s in run.result.sources()] == ["docs/costs.md"]
    assert run.progress.sections_done == {"1"}
    assert agent.cleaned == []  # the agent releases its own session on ALL END


async def test_a_hitl_run_answered_twice_then_completed(manager: RunManager) -> None:
    agent = hitl_agent(outline_round({**OUTLINE, "title": "Grid storage, revised"}, round_no=2))
    run = manager.start(agent, "Grid storage?")

    assert await run.until_settled() is RunState.WAITING_USER_INPUT
    assert run.pending is not None and run.pending.stage is HitlStage.CLARIFICATION
    assert "Which region?" in run.pending.questions
    run.submit("Europe, since 2015")

    assert await run.until_settled() is RunState.WAITING_USER_INPUT
    assert run.pending is not None and run.pending.stage is HitlStage.OUTLINE_REVIEW
    assert run.pending.outline is not None and run.pending.outline.title == "Grid storage"
    run.submit(HitlAnswer.revise("add a section on costs"))

    await run.until_settled()
    assert run.pending is not None and run.pending.round == 2
    run.submit("accept")
    await run

    assert run.state is RunState.COMPLETED
    assert [(c.interrupt_feedback, c.message) for c in agent.calls] == [
        ("", "Grid storage?"),
        ("accepted", "Europe, since 2015"),
        ("revise_comment", "add a section on costs"),
        ("accepted", ""),
    ]
    assert [e.request.stage for e in run.exchanges] == [
        HitlStage.CLARIFICATION,
        HitlStage.OUTLINE_REVIEW,
        HitlStage.OUTLINE_REVIEW,
    ]
    assert len(run.rounds) == 4
    assert len({c.conversation_id for c in agent.calls}) == 1


async def test_an_answer_that_does_not_fit_is_refused_and_the_run_stays_paused(manager: RunManager) -> None:
    agent = hitl_agent()
    run = manager.start(agent, "q")
    await run.until_settled()
    with pytest.raises(InvalidInputError, match="does not answer a clarification"):
        run.submit(HitlAnswer(feedback="revise_comment", message="x"))
    run.submit("answer")
    await run.until_settled()
    with pytest.raises(InvalidInputError, match="outline is not valid"):
        run.submit({"feedback": "revise_outline", "message": "{not json"})
    assert run.state is RunState.WAITING_USER_INPUT and run.pending is not None
    run.cancel()
    await run


async def test_submit_refused_while_running(manager: RunManager) -> None:
    gate = asyncio.Event()
    run = manager.start(ScriptedAgent([WaitFor(gate), *report_round(["x"], accepted=False)]), "q")
    with pytest.raises(RunStateError, match="RUNNING"):
        run.submit("accept")
    gate.set()
    await run


async def test_cancel_while_streaming(manager: RunManager) -> None:
    reached = asyncio.Event()
    gate = asyncio.Event()
    agent = ScriptedAgent([*tokens("sub_reporter", ["a ", "b "]), WaitFor(gate), *tokens("sub_reporter", ["late"])])
    seen: list[str] = []
    run = manager.start(agent, "q")

    def on_event(event: RunEvent) -> None:
        if isinstance(event, ChunkReceived):
            seen.append(event.chunk.content)
            reached.set()

    run.subscribe(on_event)
    await reached.wait()
    assert run.cancel() is CancelOutcome.CANCELLING
    gate.set()  # even if the agent could go on, nothing more is taken
    await run
    assert run.state is RunState.CANCELLED
    assert "late" not in seen
    assert json.loads(run.chunks[-1].to_wire()) == {  # the router's _build_cancel_message, key for key
        "conversation_id": run.conversation_id,
        "agent": "system",
        "role": "assistant",
        "content": "CANCELLED",
        "message_type": "system",
        "event": "cancel",
    }
    assert agent.cleaned == [run.conversation_id]
    assert agent.tasks_cancelled == [run.conversation_id]
    assert agent.closed_streams == 1


async def test_cancel_while_paused_cleans_up_and_refuses_answers(manager: RunManager) -> None:
    agent = hitl_agent()
    run = manager.start(agent, "q")
    await run.until_settled()
    assert manager.stats().paused_sessions == 1
    assert run.cancel() is CancelOutcome.CANCELLING
    await run
    assert run.state is RunState.CANCELLED
    assert agent.cleaned == [run.conversation_id]
    with pytest.raises(RunStateError):
        manager.submit(run.conversation_id, "accept")


async def test_cancel_before_the_first_chunk(manager: RunManager) -> None:
    agent = ScriptedAgent(report_round(["x"], accepted=False))
    run = manager.start(agent, "q")
    assert run.cancel() is CancelOutcome.CANCELLING  # the producer task has not run a single step
    await run
    assert run.state is RunState.CANCELLED
    assert [c.agent for c in run.chunks] == ["system"]
    assert agent.cleaned == [run.conversation_id]


async def test_cancel_twice_and_after_the_end(manager: RunManager) -> None:
    run = manager.start(ScriptedAgent([Hang()]), "q")
    assert run.cancel() is CancelOutcome.CANCELLING
    assert run.cancel() is CancelOutcome.CANCELLING
    await run
    assert run.cancel() is CancelOutcome.CANCELLING  # the key is remembered as cancelled
    assert sum(c.is_cancel for c in run.chunks) == 1
    done = manager.start(ScriptedAgent(report_round(["x"], accepted=False)), "q")
    await done
    assert done.cancel() is CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED


async def test_cancel_for_an_unknown_key(manager: RunManager) -> None:
    assert manager.cancel("nobody") is CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED
    assert await manager.acancel("nobody") is CancelOutcome.NO_ACTIVE_TASK_OR_FORWARD_FAILED


async def test_a_new_request_on_a_cancelled_key_answers_with_one_cancel_chunk(manager: RunManager) -> None:
    first = manager.start(ScriptedAgent([Hang()]), "q", conversation_id="conv-1")
    first.cancel()
    await first
    assert manager.stats().cancelled_keys == 1
    agent = ScriptedAgent(report_round(["x"], accepted=False))
    again = manager.start(agent, "q", conversation_id="conv-1")
    assert again.state is RunState.CANCELLED
    assert [c.to_wire() for c in again.chunks] == [first.chunks[-1].to_wire()]
    assert agent.calls == []
    assert manager.stats().cancelled_keys == 0
    third = manager.start(agent, "q", conversation_id="conv-1")  # the cancel was answered once
    await third
    assert third.state is RunState.COMPLETED


async def test_paused_sessions_beyond_capacity_are_evicted_oldest_first() -> None:
    manager = RunManager(hitl_capacity=2)
    agent = ScriptedAgent(clarification())
    runs = []
    for n in range(3):
        run = manager.start(agent, "q", conversation_id=f"c{n}")
        await run.until_settled()
        runs.append(run)
    await asyncio.wait_for(runs[0].wait(), 2)
    assert runs[0].state is RunState.CANCELLED
    assert runs[0].cancel_reason is not None and "evicted" in runs[0].cancel_reason
    assert agent.cleaned == ["c0"]
    assert [r.state for r in runs[1:]] == [RunState.WAITING_USER_INPUT] * 2
    assert manager.stats().paused_sessions == 2
    await manager.aclose(timeout=5)
    assert sorted(agent.cleaned) == ["c0", "c1", "c2"]
    assert manager.stats().is_idle
    assert manager.stats().cancelled_keys == 2  # bounded by the capacity


async def test_a_resume_racing_the_previous_rounds_cleanup_keeps_the_new_round(manager: RunManager) -> None:
    gate = asyncio.Event()
    agent = ScriptedAgent(clarification(), [WaitFor(gate), *report_round(["x"], accepted=False)])
    run = manager.start(agent, "q")

    def answer_at_once(event: RunEvent) -> None:
        # Answer synchronously, inside the interrupt's own event: the first round's producer has not
        # reached its `finally` yet when the second round's task is registered under the same key.
        if isinstance(event, StateChanged) and event.state is RunState.WAITING_USER_INPUT:
            run.submit("Europe")

    run.subscribe(answer_at_once)
    for _ in range(20):
        await asyncio.sleep(0)
    assert run.state is RunState.RUNNING
    assert manager.stats().running_tasks == 1  # the first round's cleanup did not pop the second's task
    assert manager.cancel(run.conversation_id) is CancelOutcome.CANCELLING  # and it is still reachable
    gate.set()
    await run
    assert run.state is RunState.CANCELLED


async def test_an_agent_that_raises_mid_stream_fails_the_run_visibly(manager: RunManager) -> None:
    agent = ScriptedAgent([*tokens("sub_reporter", ["partial "]), Raise(RuntimeError("index is corrupt"))])
    run = manager.start(agent, "q")
    await run
    assert run.state is RunState.FAILED
    assert run.error == "The agent failed: RuntimeError: index is corrupt"
    assert run.progress.section_text["0"] == "partial "
    assert agent.cleaned == [run.conversation_id]


async def test_an_error_that_echoes_a_key_is_scrubbed(manager: RunManager) -> None:
    key = "sk-live-0123456789abcdef"
    agent = ScriptedAgent([Raise(RuntimeError(f"401 for key {key}"))])
    run = manager.start(agent, "q", agent_config={"llm_config": {"general": {"api_key": key}}})
    await run
    assert run.state is RunState.FAILED
    assert run.error is not None and key not in run.error and "***" in run.error


async def test_an_agent_error_result_fails_the_run_with_the_agents_words(manager: RunManager) -> None:
    agent = ScriptedAgent([final_result("", exception_info="[212000]Error when generate sub report"), all_end()])
    run = manager.start(agent, "q")
    await run
    assert run.state is RunState.FAILED
    assert run.error == "The agent reported an error: [212000]Error when generate sub report"


async def test_a_stream_that_stops_without_all_end_fails(manager: RunManager) -> None:
    run = manager.start(ScriptedAgent(tokens("sub_reporter", ["a"])), "q")
    await run
    assert run.state is RunState.FAILED
    assert run.error is not None and "ALL END" in run.error


async def test_an_agent_that_hangs_is_cancelled(manager: RunManager) -> None:
    run = manager.start(ScriptedAgent([Pause(0.01), Hang()]), "q")
    await asyncio.sleep(0.05)
    run.cancel()
    await asyncio.wait_for(run.wait(), 1)
    assert run.state is RunState.CANCELLED and not run.abandoned


async def test_an_agent_that_swallows_cancellation_is_abandoned_not_hidden(manager: RunManager) -> None:
    release = asyncio.Event()
    agent = ScriptedAgent([*tokens("sub_reporter", ["a"]), IgnoreCancel(release), *tokens("sub_reporter", ["b"])])
    run = manager.start(agent, "q")
    await asyncio.sleep(0.05)
    run.cancel()
    await asyncio.wait_for(run.wait(), 2)  # grace is 0.3 s in the fixture
    assert run.state is RunState.CANCELLED
    assert run.abandoned
    assert manager.stats().abandoned_tasks == 1
    assert "b" not in run.progress.section_text.get("0", "")
    release.set()
    for _ in range(50):
        if manager.stats().abandoned_tasks == 0:
            break
        await asyncio.sleep(0.02)
    assert manager.stats().abandoned_tasks == 0


async def test_malformed_chunks_of_every_kind_are_reported_and_the_run_goes_on(manager: RunManager) -> None:
    bad: list[object] = [
        "not json at all",
        "[1, 2]",
        "42",
        '{"agent": 7, "event": "message"}',
        '{"content": "no agent or event"}',
        '{"agent": "end", "event": "message", "created_time": "yesterday"}',
        b"\xff\xfe",
        12345,
        {"agent": "x", "event": "message", "section_idx": 1},
    ]
    agent = ScriptedAgent([*bad, *report_round(["fine"], accepted=False)])
    seen: list[MalformedChunkReceived] = []
    run = manager.start(agent, "q")
    run.subscribe(lambda e: seen.append(e) if isinstance(e, MalformedChunkReceived) else None)
    await run
    assert run.state is RunState.COMPLETED
    assert len(run.malformed) == len(bad) == len(seen)
    assert all(m.reason for m in run.malformed)
    assert run.malformed[0].raw == "not json at all"


async def test_cancel_and_submit_from_another_thread(manager: RunManager) -> None:
    agent = hitl_agent()
    run = manager.start(agent, "q")
    await run.until_settled()

    outcome: list[object] = []

    def click(action: str) -> None:
        try:
            if action == "submit":
                run.submit("Europe")
                outcome.append(None)
            else:
                outcome.append(run.cancel())
        except Exception as exc:  # pragma: no cover - shown in the assertion
            outcome.append(exc)

    await asyncio.to_thread(click, "submit")  # a worker thread; the loop stays free to take the call
    assert outcome == [None]
    assert await run.until_settled() is RunState.WAITING_USER_INPUT
    assert run.pending is not None and run.pending.stage is HitlStage.OUTLINE_REVIEW

    await asyncio.to_thread(click, "cancel")
    assert outcome[1] is CancelOutcome.CANCELLING
    await run
    assert run.state is RunState.CANCELLED


async def test_events_iterate_until_the_terminal_state(manager: RunManager) -> None:
    agent = hitl_agent()
    run = manager.start(agent, "q")
    kinds: list[str] = []

    stream = run.events()  # subscribed from here on, even before the watcher task runs

    async def watch() -> None:
        async for event in stream:
            kinds.append(type(event).__name__)
            if isinstance(event, HitlRequested):
                assert event.request.stage in (HitlStage.CLARIFICATION, HitlStage.OUTLINE_REVIEW)

    watcher = asyncio.create_task(watch())
    await run.until_settled()
    run.submit("x")
    await run.until_settled()
    run.submit("accept")
    await run
    await asyncio.wait_for(watcher, 1)
    assert kinds[-1] == "StateChanged"
    assert kinds.count("HitlRequested") == 2
    assert kinds.count(AnswerSubmitted.__name__) == 2


async def test_a_failing_listener_does_not_stop_the_run(manager: RunManager) -> None:
    run = manager.start(ScriptedAgent(report_round(["x"], accepted=False)), "q")

    def broken(event: RunEvent) -> None:
        raise ValueError("observer bug")

    run.subscribe(broken)
    await run
    assert run.state is RunState.COMPLETED


async def test_start_checks_its_input(manager: RunManager) -> None:
    agent = ScriptedAgent([Hang()])
    with pytest.raises(InvalidInputError, match="empty"):
        manager.start(agent, "   ")
    with pytest.raises(InvalidInputError, match="conversation_id"):
        manager.start(agent, "q", conversation_id="space:conv")
    run = manager.start(agent, "q", conversation_id="c")
    with pytest.raises(RunStateError, match="already active"):
        manager.start(agent, "q", conversation_id="c")
    run.cancel()
    await run


def test_start_needs_a_running_loop() -> None:
    with pytest.raises(RunStateError, match="running event loop"):
        RunManager().start(ScriptedAgent(), "q")


async def test_stats_count_the_bookkeeping(manager: RunManager) -> None:
    a, b = ScriptedAgent([Hang()]), ScriptedAgent(clarification())
    r1 = manager.start(a, "q", conversation_id="one")
    r2 = manager.start(b, "q", conversation_id="two")
    await r2.until_settled()
    for _ in range(5):  # let the paused round's producer finish closing its stream
        await asyncio.sleep(0)
    stats = manager.stats()
    assert (stats.live_runs, stats.running_tasks, stats.paused_sessions, stats.cancel_events) == (2, 1, 1, 2)
    assert stats.cached_agents == 2 and not stats.is_idle
    await manager.aclose(timeout=5)
    assert r1.state is r2.state is RunState.CANCELLED


def _real_chunk() -> dict[str, object]:
    """A normal chunk of a real captured SDK stream."""
    captures = Path(__file__).resolve().parents[1] / "data" / "captures" / "chunks_success.jsonl"
    real = [json.loads(line) for line in captures.read_text(encoding="utf-8").splitlines() if line.strip()]
    found: dict[str, object] = next(c for c in real if c.get("message_type") == "message_chunk" and "section_idx" in c)
    return found


async def test_chunk_builders_cover_every_field(manager: RunManager) -> None:
    """The fakes' chunks have exactly the keys, key order and value types of the real SDK's chunks."""
    real_normal = _real_chunk()
    real_keys = [k for k in real_normal if k not in ("round", "t")]  # the capture's own annotations
    built = [chunk("outline", "start"), *report_round(["x"], sources=[("Doc", "docs/a.md")], accepted=False)]
    for fake in built:
        assert list(fake) == real_keys, fake
        for key in real_keys:
            if key == "created_time":
                assert isinstance(fake[key], int | str)
            else:
                assert type(fake[key]) is type(real_normal[key]), (key, fake[key])
    run = manager.start(ScriptedAgent(built), "q")
    await run
    assert run.state is RunState.COMPLETED
    assert all(c.conversation_id == run.conversation_id for c in run.chunks)  # rewritten when replayed
    assert not run.malformed

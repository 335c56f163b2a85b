"""The run panel against recorded comms: what it shows, what a click does, and what it leaves behind."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pytest

from deepsearch_nb import REPORT_MIME, RunState
from deepsearch_nb._ui._panel import ResearchPanel
from deepsearch_nb.agents import Chunk, HitlStage, ProgressUpdate
from deepsearch_nb.runtime import ChunkReceived, RunManager
from deepsearch_nb.testing import (
    CommRecorder,
    Hang,
    Pause,
    Raise,
    ScriptedAgent,
    WaitFor,
    clarification,
    framework_error,
    outline_round,
    report_round,
    tokens,
)


def text_of(html: str) -> str:
    """The text a browser shows for an HTML widget value."""
    return re.sub(r"<[^>]+>", "", html).strip()


WIDGET_TARGET = "jupyter.widget"  # the comm target of every ipywidget (the runs channel has its own)
OUTLINE = {"title": "Storage", "sections": [{"title": "Costs"}, {"title": "Safety"}]}


def full_script() -> list[list[Any]]:
    return [
        clarification("1. Which region?"),
        outline_round(OUTLINE),
        report_round(["Costs fell.", "Fires are rare."], sources=[("Doc A", "https://example.org/a")]),
    ]


async def eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def status_texts(recorder: CommRecorder, panel: ResearchPanel) -> list[str]:
    return [text_of(m.state["value"]) for m in recorder.for_comm(panel.status.model_id) if "value" in m.state]


async def test_stable_css_classes_and_cancel_before_the_first_chunk(
    recorder: CommRecorder, manager: RunManager
) -> None:
    run = manager.start(ScriptedAgent([Hang()]), "What is grid storage?")
    panel = ResearchPanel(run)
    classes = {
        "root": panel.root._dom_classes,
        "status": panel.status._dom_classes,
        "cancel": panel.cancel_button._dom_classes,
        "hitl": panel.hitl.box._dom_classes,
        "input": panel.hitl.input._dom_classes,
        "send": panel.hitl.buttons["send"]._dom_classes,
        "accept": panel.hitl.buttons["accept"]._dom_classes,
    }
    assert "deepsearch-panel" in classes["root"]
    assert "deepsearch-status" in classes["status"]
    assert "deepsearch-cancel" in classes["cancel"]
    assert "deepsearch-hitl" in classes["hitl"]
    assert "deepsearch-hitl-input" in classes["input"]
    assert "deepsearch-hitl-submit" in classes["send"]
    assert "deepsearch-hitl-accept" in classes["accept"]
    assert "deepsearch-sources" in panel.stream._esm  # the list is drawn by the stream view
    # One Cancel, in the header (a browser test clicks it by its class); the question box has none.
    assert "cancel" not in panel.hitl.buttons
    every = [w for w in panel._all_widgets() if isinstance(w, widgets.Button)]
    assert [b for b in every if "deepsearch-cancel" in b._dom_classes] == [panel.cancel_button]
    assert [b.description for b in every if "Cancel" in b.description] == ["Cancel"]
    # Visible and usable before any chunk arrived.
    assert run.chunks == []
    assert panel.cancel_button.layout.display in (None, "")
    assert not panel.cancel_button.disabled
    assert panel.status_text == "RUNNING"
    assert text_of(panel.status.value) == "RUNNING"
    assert panel.cancel_button.description and panel.cancel_button.tooltip
    assert panel.hitl.input.description and panel.hitl.input.placeholder
    assert all(b.tooltip for b in panel.hitl.buttons.values())

    recorder.click(panel.cancel_button)
    # At once, before the loop ran: the panel is stopping.
    assert panel.stopping
    assert panel.cancel_button.disabled
    assert panel.cancel_button.description == "Stopping..."
    await run.wait()
    await asyncio.sleep(0)
    assert "deepsearch-stopping" in panel.root._dom_classes
    assert panel.status_text == "CANCELLED"
    assert status_texts(recorder, panel)[-1] == "CANCELLED"
    panel.close()


async def test_status_follows_every_state_and_the_box_fits_each_stage(
    recorder: CommRecorder, manager: RunManager
) -> None:
    agent = ScriptedAgent(*full_script())
    run = manager.start(agent, "What is grid storage?")
    panel = ResearchPanel(run)
    buttons = panel.hitl.buttons

    def shown() -> set[str]:
        return {name for name, b in buttons.items() if b.layout.display != "none"}

    await run.until_settled()
    assert panel.status_text == "WAITING_USER_INPUT"
    assert panel.hitl.visible and panel.hitl.request is not None
    assert panel.hitl.request.stage == HitlStage.CLARIFICATION
    assert shown() == {"send"}
    assert "Which region?" in panel.hitl.prompt.value
    assert panel.hitl.edit_json.layout.display == "none"
    assert panel.hitl.advanced.layout.display == "none"

    recorder.type_text(panel.hitl.input, "Europe")
    recorder.click(buttons["send"])
    await eventually(lambda: len(run.exchanges) == 1)
    assert run.exchanges[0].answer.message == "Europe"
    await run.until_settled()
    assert panel.hitl.request is not None and panel.hitl.request.stage == HitlStage.OUTLINE_REVIEW
    assert shown() == {"accept", "revise", "replace"}
    assert panel.hitl.edit_json.layout.display != "none"
    # The JSON tools sit under "Advanced" (folded), not beside the main actions.
    assert panel.hitl.advanced.layout.display != "none" and panel.hitl.advanced.selected_index is None
    assert set(panel.hitl.advanced.children[0].children) == {panel.hitl.edit_json, buttons["replace"]}
    assert buttons["replace"] not in panel.hitl.button_row.children
    # A clear primary action, the others drawn as (outlined) buttons.
    assert "deepsearch-primary" in buttons["accept"]._dom_classes
    assert "deepsearch-secondary" in buttons["revise"]._dom_classes
    assert panel.outline.layout.display != "none"
    assert "Costs" in panel.outline.value and "Safety" in panel.outline.value

    recorder.click(buttons["accept"])
    await run.wait()
    await asyncio.sleep(0)
    assert run.state is RunState.COMPLETED
    assert not panel.hitl.visible
    texts = status_texts(recorder, panel)
    # Every transition reached the browser, each text exactly the state name.
    assert texts == ["RUNNING", "WAITING_USER_INPUT", "RUNNING", "WAITING_USER_INPUT", "RUNNING", "COMPLETED"]
    panel.close()


async def test_bad_outline_json_keeps_the_box_open_with_a_usable_message(
    recorder: CommRecorder, manager: RunManager
) -> None:
    agent = ScriptedAgent(outline_round(OUTLINE), report_round(["Text."]))
    run = manager.start(agent, "q")
    panel = ResearchPanel(run)
    await run.until_settled()

    recorder.type_text(panel.hitl.input, '{"title": "Mine", "sections": [')
    recorder.click(panel.hitl.buttons["replace"])
    await eventually(lambda: bool(panel.hitl.error.value))
    assert "outline is not valid" in panel.hitl.error.value
    assert 'role="alert"' in panel.hitl.error.value
    assert panel.hitl.visible and run.state is RunState.WAITING_USER_INPUT
    assert not panel.hitl.buttons["replace"].disabled  # the person can fix it and try again

    recorder.type_text(panel.hitl.input, "   ")
    recorder.click(panel.hitl.buttons["revise"])
    await eventually(lambda: "comment" in panel.hitl.error.value)
    assert run.state is RunState.WAITING_USER_INPUT

    recorder.click(panel.hitl.edit_json)  # starts from the agent's outline
    edited = json.loads(panel.hitl.input.value)
    edited["sections"].append({"title": "Recycling"})
    recorder.type_text(panel.hitl.input, json.dumps(edited))
    recorder.click(panel.hitl.buttons["replace"])
    await run.wait()
    assert agent.calls[-1].interrupt_feedback == "revise_outline"
    assert json.loads(agent.calls[-1].message)["sections"][-1]["title"] == "Recycling"
    panel.close()


async def test_a_refused_answer_from_the_browser_is_put_back_in_the_box(
    recorder: CommRecorder, manager: RunManager
) -> None:
    """Issue 12: the browser empties the box when it sends a click's action with its text (so a late value
    update cannot bring an old answer back). An answer the run refuses must not be lost: the box holds it
    again, beside the reason, so the person can fix it."""
    agent = ScriptedAgent(outline_round(OUTLINE), report_round(["Text."]))
    run = manager.start(agent, "q")
    panel = ResearchPanel(run, interval=0.01)
    await run.until_settled()
    broken = '{"title": "Mine", "sections": ['
    recorder.type_text(panel.hitl.input, "")  # what the browser's box says after sending
    message = {"event": "hitl", "action": "replace", "text": broken}
    recorder.deliver(panel.stream.model_id, {"method": "custom", "content": message})
    await eventually(lambda: bool(panel.hitl.error.value))
    assert "outline is not valid" in panel.hitl.error.value
    assert panel.hitl.input.value == broken
    assert not panel.hitl.input.disabled and not panel.hitl.buttons["replace"].disabled
    assert run.state is RunState.WAITING_USER_INPUT
    fixed = json.dumps({"title": "Mine", "sections": [{"title": "Costs"}]})
    recorder.deliver(panel.stream.model_id, {"method": "custom", "content": {**message, "text": fixed}})
    await run.wait()
    assert agent.calls[-1].interrupt_feedback == "revise_outline"
    panel.close()


async def test_a_click_on_another_thread_is_handed_to_the_loop(recorder: CommRecorder, manager: RunManager) -> None:
    """JupyterLab may deliver comm messages on a kernel subshell thread."""
    agent = ScriptedAgent(clarification(), report_round(["Done."], accepted=False))
    run = manager.start(agent, "q")
    panel = ResearchPanel(run)
    await run.until_settled()
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = manager.submit_run

    def spy(*args: Any) -> None:
        seen.append(threading.get_ident())
        original(*args)

    manager.submit_run = spy  # type: ignore[method-assign,assignment]

    def browser() -> None:
        recorder.type_text(panel.hitl.input, "Asia")
        recorder.click(panel.hitl.buttons["send"])

    worker = threading.Thread(target=browser)
    worker.start()
    worker.join()
    await run.wait()
    assert seen == [loop_thread]
    assert run.exchanges[0].answer.message == "Asia"
    panel.close()


async def test_cancel_ignores_late_chunks_and_ends_cancelled(recorder: CommRecorder, manager: RunManager) -> None:
    script: list[Any] = []
    for part in tokens("sub_reporter", ["alpha "] * 200, section_idx="1"):
        script += [part, Pause(0.002)]
    run = manager.start(ScriptedAgent(script), "q")
    panel = ResearchPanel(run, interval=0.01)
    await eventually(lambda: len(run.chunks) > 20)
    recorder.click(panel.cancel_button)
    assert panel.stopping
    text_at_click = dict(panel.stream.text)
    # A chunk that arrives after the click (the runtime is still stopping) is not shown.
    late = Chunk(agent="sub_reporter", event="message", content="LATE", section_idx="1")
    panel._on_event(ChunkReceived(late, ProgressUpdate()))
    assert panel.stream.text == text_at_click
    await run.wait()
    await asyncio.sleep(0.05)
    assert run.state is RunState.CANCELLED
    assert panel.status_text == "CANCELLED"
    assert "LATE" not in "".join(panel.stream.text.values())
    assert "Cancelled" in panel.message.value
    cancel_updates = [m.state for m in recorder.for_comm(panel.cancel_button.model_id) if m.method == "update"]
    descriptions = [s["description"] for s in cancel_updates if "description" in s]
    assert descriptions == ["Stopping...", "Cancelled"]
    panel.close()


async def test_failure_is_shown_in_words(recorder: CommRecorder, manager: RunManager) -> None:
    run = manager.start(ScriptedAgent(framework_error("the search engine refused the API key")), "q")
    panel = ResearchPanel(run)
    await run.wait()
    await asyncio.sleep(0)
    assert panel.status_text == "FAILED"
    assert 'role="alert"' in panel.message.value
    assert "the search engine refused the API key" in panel.message.value
    panel.close()

    run2 = manager.start(ScriptedAgent([Raise(ConnectionError("llm host unreachable"))]), "q2")
    panel2 = ResearchPanel(run2)
    await run2.wait()
    await asyncio.sleep(0)
    assert "llm host unreachable" in panel2.message.value
    panel2.close()


async def test_stream_is_grouped_and_sends_only_new_text(recorder: CommRecorder, manager: RunManager) -> None:
    gate = asyncio.Event()
    agent = ScriptedAgent(
        [
            *outline_round(OUTLINE)[:-1],
            WaitFor(gate),
            *report_round(["one two three", "four five"], sources=[("Doc A", "https://example.org/a")]),
        ]
    )
    run = manager.start(agent, "q")
    panel = ResearchPanel(run, interval=0.01)
    await eventually(lambda: bool(panel.stream.message_times))
    gate.set()
    await run.wait()
    await asyncio.sleep(0.05)
    stream_msgs = [m.custom for m in recorder.for_comm(panel.stream.model_id) if m.custom is not None]
    titles = [title for msg in stream_msgs for _, title in msg.get("g", [])]
    assert "Drafting the outline" not in titles  # the outline box shows the outline; the stream does not
    assert "Writing - section 1: Costs" in titles and "Writing - section 2: Safety" in titles
    # Deltas only: per group, what was sent, in the order sent, is the group's text exactly once.
    sent: dict[str, str] = {}
    for msg in stream_msgs:
        for gid, text in msg.get("a", []):
            sent[gid] = sent.get(gid, "") + text
    assert sent == dict(panel.stream.text)
    assert [msg["n"] for msg in stream_msgs] == list(range(len(stream_msgs)))
    sources = [s for msg in stream_msgs for s in msg.get("s", [])]
    assert sources == [[1, "Doc A", "https://example.org/a"]]
    assert stream_msgs[-1]["p"]["stage"] == "done" and stream_msgs[-1]["live"] is False
    panel.close()


async def test_the_hitl_box_joins_the_panel_at_the_first_question(recorder: CommRecorder, manager: RunManager) -> None:
    run = manager.start(ScriptedAgent(clarification()), "q")
    panel = ResearchPanel(run, interval=0.01)
    assert panel.hitl.box not in panel.root.children  # nothing to draw hidden, so nothing can flash
    await run.until_settled()
    assert panel.root.children[-1] is panel.hitl.box and panel.hitl.visible
    run.cancel()
    await run.wait()
    panel.close()


async def test_outline_and_plan_json_are_summarised_not_dumped(recorder: CommRecorder, manager: RunManager) -> None:
    plan = {"title": "Costs plan", "thought": "start from capital costs", "steps": [{"title": "Find prices"}]}
    agent = ScriptedAgent(
        [
            *outline_round(OUTLINE)[:-1],
            *tokens("plan_reasoning", [json.dumps(plan)], section_idx="1"),
            *report_round(["text"], accepted=False),
        ]
    )
    run = manager.start(agent, "q")
    panel = ResearchPanel(run, interval=0.01)
    await run.wait()
    panel.stream.flush()
    text = "\n".join(panel.stream.text.values())
    assert '"sections"' not in text and '"steps"' not in text  # no raw JSON in the stream
    assert "Outline \u201cStorage\u201d" not in text  # said once: in the outline box, not again as a line
    assert "Costs" in panel.outline.value and "Safety" in panel.outline.value
    assert "Plan \u201cCosts plan\u201d: Find prices \u2014 start from capital costs" in text
    panel.close()


async def test_the_questions_leave_the_stream_before_the_box_shows_them(
    recorder: CommRecorder, manager: RunManager
) -> None:
    """Issue 12, finding 3 (seen in the browser, once in a CI run): the box became visible while the
    stream still showed the questions, because the stream's drop waited for its next coalesced message
    (up to 80 ms) and the box's display went at once. The drop now goes out first."""
    agent = ScriptedAgent(clarification("1. Which region?\n2. Which period?"), report_round(["Costs fell."]))
    run = manager.start(agent, "What is grid storage?")
    panel = ResearchPanel(run)  # the default 80 ms interval
    await run.until_settled()
    stream = panel.stream.model_id
    box = panel.hitl.box.layout.model_id
    drop = next(i for i, m in enumerate(recorder.messages) if m.comm_id == stream and (m.custom or {}).get("d"))
    shown = next(
        i for i, m in enumerate(recorder.messages) if m.comm_id == box and m.state.get("display") not in (None, "none")
    )
    assert drop < shown
    recorder.click(panel.hitl.buttons["send"])
    await run.wait()
    panel.close()


async def test_each_thing_is_said_once(recorder: CommRecorder, manager: RunManager) -> None:
    """Issue 12, finding 3: the questions only in the box, the outline only in its box, one Cancel."""
    question = "What is grid storage for a planner?"
    agent = ScriptedAgent(
        clarification("1. Which region?\n2. Which period?"),
        outline_round({**OUTLINE, "title": "What is grid storage for a planner"}),
        report_round(["Costs fell."], accepted=False),
    )
    run = manager.start(agent, question)
    panel = ResearchPanel(run, interval=0.01)
    await run.until_settled()
    panel.stream.flush()
    assert "Which region?" in panel.hitl.prompt.value
    assert "Which region?" not in "".join(panel.stream.text.values())  # dropped from the stream
    snapshot = panel.stream.snapshot()
    assert all("region" not in text for _, text in snapshot["a"])
    drops = [m.custom for m in recorder.for_comm(panel.stream.model_id) if m.custom and m.custom.get("d")]
    assert drops, "the browser was not told to drop the questions from the stream"
    recorder.type_text(panel.hitl.input, "Europe")
    recorder.click(panel.hitl.buttons["send"])
    await eventually(lambda: panel.hitl.request is not None and panel.hitl.request.stage == HitlStage.OUTLINE_REVIEW)
    # The outline's title restates the question (shown in the header): the box does not say it again.
    assert "grid storage" not in text_of(panel.outline.value).lower()
    assert text_of(panel.outline.value).startswith("Outline (2 sections)")
    run.cancel()
    await run.wait()
    panel.close()


async def test_fast_stream_is_coalesced(recorder: CommRecorder, manager: RunManager) -> None:
    script: list[Any] = [*tokens("sub_reporter", ["x" * 50] * 400, section_idx="1"), *report_round(["end"])]
    run = manager.start(ScriptedAgent(script), "q")
    panel = ResearchPanel(run)
    await run.wait()
    await asyncio.sleep(0.2)
    stream_msgs = [m for m in recorder.for_comm(panel.stream.model_id) if m.custom is not None]
    assert len(stream_msgs) <= 5
    assert "x" * 20_000 in "".join(t for m in stream_msgs for _, t in m.custom.get("a", []))
    panel.close()


async def test_a_late_browser_model_gets_one_snapshot(recorder: CommRecorder, manager: RunManager) -> None:
    run = manager.start(ScriptedAgent(report_round(["alpha beta"], sources=[("D", "https://d.example")])), "q")
    panel = ResearchPanel(run, interval=0.01)
    await run.wait()
    await asyncio.sleep(0.05)
    before = len(recorder.messages)
    recorder.deliver(panel.stream.model_id, {"method": "custom", "content": {"event": "hello", "n": -1}})
    await asyncio.sleep(0.01)
    snaps = [m.custom for m in recorder.messages[before:] if isinstance(m.custom, dict) and m.custom.get("snap")]
    assert len(snaps) == 1
    snap = snaps[0]
    assert "".join(t for _, t in snap["a"]) == "".join(panel.stream.text.values())
    assert snap["s"] == [[1, "D", "https://d.example"]] and snap["live"] is False
    # A model that is up to date gets nothing.
    before = len(recorder.messages)
    recorder.deliver(panel.stream.model_id, {"method": "custom", "content": {"event": "hello", "n": snap["n"]}})
    await asyncio.sleep(0.01)
    assert recorder.messages[before:] == []
    panel.close()


async def test_close_leaves_no_comm_open(recorder: CommRecorder, manager: RunManager) -> None:
    run = manager.start(ScriptedAgent(report_round(["x"])), "q")
    panel = ResearchPanel(run)
    await run.wait()
    panel.close()
    assert recorder.open_comm_ids(WIDGET_TARGET) == set()
    panel.close()  # twice is harmless


async def test_the_report_replaces_the_panel_in_its_display_slot(recorder: CommRecorder, screen: Any) -> None:
    from deepsearch_nb import research

    handle = research("What is grid storage?", agent=ScriptedAgent(*full_script()), answers=["Europe", "accept"])
    assert handle.panel is not None
    display_id = handle.panel.display_id
    assert display_id and screen.calls[0] == (display_id, False, handle.panel.root)
    report = await handle
    assert report.status == "COMPLETED"
    last_id, update, bundle = screen.calls[-1]
    assert (last_id, update) == (display_id, True)
    assert bundle[REPORT_MIME]["status"] == "COMPLETED"
    assert {"text/plain", "text/html", "text/markdown"} <= set(bundle)
    assert len(screen.calls) == 2
    assert handle.panel.closed and recorder.open_comm_ids(WIDGET_TARGET) == set()


async def test_display_false_shows_nothing(recorder: CommRecorder, screen: Any) -> None:
    from deepsearch_nb import research

    handle = research("q", agent=ScriptedAgent(report_round(["x"])), display=False)
    report = await handle
    assert handle.panel is None and screen.calls == [] and recorder.messages == []
    assert report.status == "COMPLETED"


async def test_the_handle_shows_nothing_in_its_own_cell_then_the_report(
    recorder: CommRecorder, screen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepsearch_nb import research
    from deepsearch_nb._ui import _ipython

    count = [7]
    monkeypatch.setattr(_ipython, "execution_count", lambda: count[0])
    shown: list[Any] = []

    def display(obj: Any, **kwargs: Any) -> None:
        shown.append(obj)

    monkeypatch.setattr(_ipython, "display", display)
    handle = research("q", agent=ScriptedAgent(report_round(["x"])))
    handle._ipython_display_()  # the cell's value, right under the panel
    assert shown == []
    report = await handle
    count[0] = 8  # a later cell
    handle._ipython_display_()
    assert shown == [report]


async def test_ctrl_enter_sends_the_action_with_its_text(recorder: CommRecorder, manager: RunManager) -> None:
    """Issue 12, finding 4: Ctrl+Enter sends the action and the whole text in one message, so the last
    keystrokes cannot lose a race with the click (they did: "... for a utility" without "planner")."""
    run = manager.start(ScriptedAgent(*full_script()), "What is grid storage?")
    panel = ResearchPanel(run, interval=0.01)
    await run.until_settled()
    message = {"event": "hitl", "action": "send", "text": "Europe, for a utility planner"}
    recorder.deliver(panel.stream.model_id, {"method": "custom", "content": message})
    await eventually(lambda: len(run.exchanges) == 1)
    assert run.exchanges[0].answer.message == "Europe, for a utility planner"
    await run.until_settled()
    recorder.deliver(panel.stream.model_id, {"method": "custom", "content": {"event": "hitl", "action": "bogus"}})
    recorder.deliver(panel.stream.model_id, {"method": "custom", "content": {**message, "action": "accept"}})
    await run.wait()
    assert len(run.exchanges) == 2 and run.exchanges[1].answer.feedback.value == "accepted"
    panel.close()

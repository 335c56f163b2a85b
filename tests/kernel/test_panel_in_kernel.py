"""The panel in a real kernel, steered with the comm messages a browser sends, on ipykernel 7 and 6.

A click is ``{"method": "custom", "content": {"event": "click"}}`` to the Button's comm, typing is
``{"method": "update", "state": {"value": ...}}`` to the Textarea's; the stream view reports a browser
view with ``{"event": "view"}``. The comm ids come from an introspection cell.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ._kernel import KernelSession, Message, display_messages, widget_updates

pytestmark = pytest.mark.kernel

REPORT_MIME = "application/vnd.deepsearch.report+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
ANSWER = "Focus on costs and fire safety for a utility in the United States."


def start(kernel: KernelSession, code: str) -> tuple[int, dict[str, str], str]:
    """Run a cell that creates handle ``h``; returns (log index, widget comm ids, display id)."""
    mark = len(kernel.log)
    own = kernel.execute(code)
    ids: dict[str, str] = kernel.eval_json("h.panel.widget_ids()")
    display_id: str = kernel.eval_json("h.panel.display_id")
    shown = [m for m in own if m["msg_type"] == "display_data"]
    assert len(shown) == 1 and WIDGET_MIME in shown[0]["content"]["data"], "the panel is displayed at once"
    assert shown[0]["content"]["transient"]["display_id"] == display_id
    assert shown[0]["content"]["data"][WIDGET_MIME]["model_id"] == ids["root"]
    return mark, ids, display_id


def statuses(kernel: KernelSession, ids: dict[str, str]) -> list[str]:
    return [re.sub(r"<[^>]+>", "", s["value"]) for s in widget_updates(kernel.log, ids["status"]) if "value" in s]


def wait_status(kernel: KernelSession, ids: dict[str, str], state: str, count: int = 1, timeout: float = 30) -> None:
    kernel.wait_for(lambda _m: statuses(kernel, ids).count(state) >= count, timeout)


def wait_report(kernel: KernelSession, display_id: str, timeout: float = 30) -> dict[str, Any]:
    msg = kernel.wait_for(
        lambda m: (
            m["msg_type"] == "update_display_data"
            and (m["content"].get("transient") or {}).get("display_id") == display_id
        ),
        timeout,
    )
    data = msg["content"]["data"]
    assert {REPORT_MIME, "text/html", "text/markdown", "text/plain"} <= set(data)
    assert WIDGET_MIME not in data
    doc: dict[str, Any] = data[REPORT_MIME]
    return doc


def assert_clean(kernel: KernelSession, mark: int) -> None:
    """Every widget comm the run opened is closed, the handle has its report, the manager holds nothing.

    (The kernel's runs channel, the sidebar's comm, stays open for the kernel's life by design.)
    """
    opened = {
        m["content"]["comm_id"]
        for m in kernel.log[mark:]
        if m["msg_type"] == "comm_open" and m["content"].get("target_name") == "jupyter.widget"
    }
    kernel.wait_for(
        lambda _m: opened <= {m["content"]["comm_id"] for m in kernel.log[mark:] if m["msg_type"] == "comm_close"},
        10,
    )
    state = kernel.eval_json("[h.done(), h.panel.closed, stats().is_idle, str(stats())]")
    assert state[:3] == [True, True, True], state[3]


def custom_messages(kernel: KernelSession, comm_id: str, start: int = 0) -> list[Any]:
    return [
        m["content"]["data"]["content"]
        for m in kernel.log[start:]
        if m["msg_type"] == "comm_msg"
        and m["content"].get("comm_id") == comm_id
        and m["content"]["data"].get("method") == "custom"
    ]


def test_a_person_answers_in_the_panel(kernel: KernelSession) -> None:
    mark, ids, display_id = start(kernel, "h = research(DEMO_QUESTION)")
    # What the stream view's JavaScript sends when a browser renders it: now the run waits for a person.
    kernel.comm_msg(ids["stream"], {"method": "custom", "content": {"event": "view"}})
    wait_status(kernel, ids, "WAITING_USER_INPUT")
    assert kernel.eval_json("h.run.pending.stage") == "clarification"

    kernel.type_text(ids["input"], ANSWER)
    kernel.click(ids["hitl_send"])
    wait_status(kernel, ids, "WAITING_USER_INPUT", count=2)
    assert kernel.eval_json("h.run.pending.stage") == "outline_review"

    kernel.type_text(ids["input"], '{"title": "Mine", "sections": [')
    kernel.click(ids["hitl_replace"])
    kernel.wait_for(
        lambda _m: any("not valid" in s.get("value", "") for s in widget_updates(kernel.log, ids["hitl_error"]))
    )
    assert kernel.eval_json("[h.state, h.panel.hitl.visible]") == ["WAITING_USER_INPUT", True]

    kernel.click(ids["hitl_accept"])
    doc = wait_report(kernel, display_id)
    assert doc["status"] == "COMPLETED"
    assert [(e["stage"], e["feedback"], e["message"]) for e in doc["hitl"]] == [
        ("clarification", "accepted", ANSWER),
        ("outline_review", "accepted", ""),
    ]
    assert statuses(kernel, ids)[-1] == "COMPLETED"
    stream = custom_messages(kernel, ids["stream"], mark)
    assert sum(len(t) for msg in stream for _, t in msg.get("a", [])) > 1000  # the report streamed in
    assert_clean(kernel, mark)


def test_cancel_stops_a_streaming_run(kernel: KernelSession) -> None:
    mark, ids, display_id = start(
        kernel, "h = research(DEMO_QUESTION, agent=LocalResearchAgent(pacing=0.01), answers=DEMO_ANSWERS)"
    )
    kernel.wait_for(
        lambda _m: any(
            "Writing" in title for msg in custom_messages(kernel, ids["stream"], mark) for _, title in msg.get("g", [])
        )
    )
    kernel.click(ids["cancel"])
    doc = wait_report(kernel, display_id)
    assert doc["status"] == "CANCELLED"
    assert "cancelled by the user" in (doc["error"] or "")
    descriptions = [s["description"] for s in widget_updates(kernel.log, ids["cancel"]) if "description" in s]
    assert descriptions == ["Stopping...", "Cancelled"]
    assert statuses(kernel, ids)[-1] == "CANCELLED"
    # After the click, at most the text received before it is still flushed; nothing new streams in.
    clicked = next(
        i
        for i, m in enumerate(kernel.log)
        if m["msg_type"] == "comm_msg"
        and m["content"].get("comm_id") == ids["cancel"]
        and m["content"]["data"].get("state", {}).get("description") == "Stopping..."
    )
    late = [msg for msg in custom_messages(kernel, ids["stream"], clicked) if msg.get("a")]
    assert len(late) <= 1
    assert_clean(kernel, mark)


def test_cancel_clicked_on_a_subshell_thread(kernel: KernelSession) -> None:
    """JupyterLab 4.4+ talks to widgets over a kernel subshell on ipykernel 7: the click runs on its thread."""
    if kernel.major == 6:
        pytest.skip("ipykernel 6 has no subshells")
    session = kernel.client.session
    kernel.client.control_channel.send(session.msg("create_subshell_request", {}))
    subshell_id = kernel.client.get_control_msg(timeout=10)["content"]["subshell_id"]
    mark, ids, display_id = start(kernel, "h = research(DEMO_QUESTION, answer_timeout=None)")
    wait_status(kernel, ids, "WAITING_USER_INPUT")
    kernel.execute(
        "import threading\n"
        "clicked_on = []\n"
        "def spy(button, _handler=h.panel._cancel_clicked):\n"
        "    clicked_on.append(threading.current_thread() is threading.main_thread())\n"
        "    _handler(button)\n"
        "h.panel.cancel_button._click_handlers.callbacks = [spy]"
    )
    # ipykernel 7.4 routes a comm's messages to the subshell it last published from: publish from there.
    on_subshell = session.msg(
        "execute_request",
        {
            "code": "h.panel.cancel_button.send_state('tooltip')",
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    )
    on_subshell["header"]["subshell_id"] = subshell_id
    kernel.client.shell_channel.send(on_subshell)
    kernel.wait_for(
        lambda m: (
            m["parent_header"].get("msg_id") == on_subshell["header"]["msg_id"]
            and m["msg_type"] == "status"
            and m["content"]["execution_state"] == "idle"
        )
    )
    click = session.msg(
        "comm_msg", {"comm_id": ids["cancel"], "data": {"method": "custom", "content": {"event": "click"}}}
    )
    click["header"]["subshell_id"] = subshell_id
    kernel.client.shell_channel.send(click)
    doc = wait_report(kernel, display_id)
    assert doc["status"] == "CANCELLED"
    assert kernel.eval_json("clicked_on") == [False], "the click ran on the subshell's thread"
    assert_clean(kernel, mark)


def test_a_headless_question_times_out_with_a_clear_error(kernel: KernelSession) -> None:
    mark, _ids, display_id = start(kernel, "h = research(DEMO_QUESTION, answer_timeout=1)")
    doc = wait_report(kernel, display_id)
    assert doc["status"] == "CANCELLED" and "no answer" in doc["error"]
    own = kernel.execute("await h", allow_error=True)
    errors = [m["content"] for m in own if m["msg_type"] == "error"]
    assert errors and errors[0]["ename"] == "HitlTimeout"
    assert "clarification question within 1 s" in errors[0]["evalue"]
    assert_clean(kernel, mark)


def test_an_awaited_run_leaves_its_report_in_its_own_cell(kernel: KernelSession) -> None:
    mark = len(kernel.log)
    own = kernel.execute("report = await research(DEMO_QUESTION, answers=DEMO_ANSWERS)\nh = None")
    shown = [m for m in own if m["msg_type"] == "display_data"]
    updated = [m for m in own if m["msg_type"] == "update_display_data"]
    assert len(shown) == 1 and len(updated) == 1, [m["msg_type"] for m in own]
    display_id = shown[0]["content"]["transient"]["display_id"]
    assert updated[0]["content"]["transient"]["display_id"] == display_id
    assert updated[0]["content"]["data"][REPORT_MIME]["status"] == "COMPLETED"
    assert kernel.eval_json("[report.status, stats().is_idle]") == ["COMPLETED", True]
    opened = {m["content"]["comm_id"] for m in kernel.log[mark:] if m["msg_type"] == "comm_open"}
    closed = {m["content"]["comm_id"] for m in kernel.log[mark:] if m["msg_type"] == "comm_close"}
    assert opened and opened <= closed


def test_the_cell_magic(kernel: KernelSession) -> None:
    kernel.execute("%load_ext deepsearch_nb")
    answers = json.dumps([ANSWER, "accept"])
    own = kernel.execute(f"%%deepsearch --wait --answers '{answers}'\nWhat should a utility know about LCOS?\n")
    updated = [m for m in own if m["msg_type"] == "update_display_data"]
    assert len(updated) == 1 and updated[0]["content"]["data"][REPORT_MIME]["status"] == "COMPLETED"
    assert updated[0]["content"]["data"][REPORT_MIME]["question"] == "What should a utility know about LCOS?"
    assert not [m for m in own if m["msg_type"] == "execute_result"], "the awaited handle shows nothing more"

    mark = len(kernel.log)
    own = kernel.execute("%%deepsearch --no-hitl --pacing 0.001\nWhat is a battery?\n")
    shown: list[Message] = [m for m in own if m["msg_type"] == "display_data"]
    assert len(shown) == 1  # the cell returned at once with the panel; the run goes on
    display_id = shown[0]["content"]["transient"]["display_id"]
    kernel.wait_for(lambda _m: len(display_messages(kernel.log, display_id)) == 2, 30)
    assert kernel.eval_json("stats().is_idle")
    # The panel's slot was shown once and then replaced by the finished report of this very question.
    slot = display_messages(kernel.log[mark:], display_id)
    assert [m["msg_type"] for m in slot] == ["display_data", "update_display_data"]
    report = slot[-1]["content"]["data"][REPORT_MIME]
    assert (report["status"], report["question"]) == ("COMPLETED", "What is a battery?")
    assert not report["hitl"]  # --no-hitl: no stop at all

    own = kernel.execute("%%deepsearch --pacing soon\nWhat is a battery?\n", allow_error=True)
    # IPython shows a UsageError as one line on stderr, without a traceback.
    shown_text = "".join(m["content"].get("text", "") + str(m["content"].get("evalue", "")) for m in own)
    assert "UsageError" in shown_text and "--pacing must be a number" in shown_text


def test_load_ext_deepsearch_nb(kernel: KernelSession) -> None:
    assert kernel.eval_json("callable(getattr(deepsearch_nb, 'load_ipython_extension', None))")
    kernel.execute("%load_ext deepsearch_nb")
    assert kernel.eval_json("'deepsearch' in get_ipython().magics_manager.magics['cell']")

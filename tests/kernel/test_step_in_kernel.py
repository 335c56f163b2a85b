"""Step mode in a real kernel (issue 14), steered with the comm messages a browser sends.

Each stop is waited for by the number of answers the run has had (``len(h.run.exchanges)``), read in the
kernel, so no test sleeps. The step bar's comm ids come from ``h.panel.widget_ids()``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ._kernel import KernelSession
from .conftest import SETUP
from .test_panel_in_kernel import start, wait_report

pytestmark = pytest.mark.kernel

CONFIG = '{"outliner_max_section_num": 2, "outline_interaction_enabled": False}'
ANSWER = "Focus on costs and fire safety."


def assert_clean(kernel: KernelSession, mark: int) -> None:
    """Every comm the run opened is closed and the manager holds nothing; the kernel's runs channel (one
    comm for the kernel's life, opened with its first run) is not the run's."""
    opened = {
        m["content"]["comm_id"]
        for m in kernel.log[mark:]
        if m["msg_type"] == "comm_open" and m["content"].get("target_name") != "deepsearch_nb.runs"
    }
    kernel.wait_for(
        lambda _m: opened <= {m["content"]["comm_id"] for m in kernel.log[mark:] if m["msg_type"] == "comm_close"},
        10,
    )
    state = kernel.eval_json("[h.done(), h.panel.closed, stats().is_idle, str(stats())]")
    assert state[:3] == [True, True, True], state[3]


def wait_stop(kernel: KernelSession, answered: int, timeout: float = 30) -> str:
    """Wait until the run waits again after ``answered`` answers; returns the stop's label ('' at the end)."""
    deadline = time.monotonic() + timeout
    expr = (
        "[len(h.run.exchanges), h.state, "
        "(h.run.pending.step.label if h.run.pending.step else h.run.pending.stage.value) if h.run.pending else '']"
    )
    while True:
        count, state, label = kernel.eval_json(expr)
        if state in ("COMPLETED", "CANCELLED", "FAILED"):
            return ""
        if count == answered and state == "WAITING_USER_INPUT" and label:
            return str(label)
        assert time.monotonic() < deadline, f"no stop after {answered} answers: {state} {label}"
        kernel.pump(0.1)


def test_a_stepped_run_with_a_plan_edit_and_a_source_gate(kernel: KernelSession) -> None:
    mark, ids, display_id = start(
        kernel, f"h = research(DEMO_QUESTION, step=True, agent_config={CONFIG}, answer_timeout=None)"
    )
    assert wait_stop(kernel, 0) == "clarification"
    kernel.type_text(ids["input"], ANSWER)
    kernel.click(ids["hitl_send"])
    seen: list[str] = []
    dropped: str | None = None
    answered = 1
    while label := wait_stop(kernel, answered):
        seen.append(label)
        if label == "section 1 of 2: plan" and "edited" not in seen:
            seen.append("edited")
            kernel.type_text(ids["step_title"], "Fire safety")
            kernel.type_text(ids["step_description"], "Thermal runaway, fire codes and suppression.")
            kernel.click(ids["step_edit"])
        elif label == "section 2 of 2: sources":
            ids = kernel.eval_json("h.panel.widget_ids()")  # the gate's checkboxes exist now
            dropped = kernel.eval_json("h.run.pending.step.sources[0].url")
            untick = {"method": "update", "state": {"value": False}, "buffer_paths": []}
            kernel.comm_msg(ids["step_source_1"], untick)
            kernel.click(ids["step_edit"])
        else:
            kernel.click(ids["step_continue"])
        answered += 1
    doc = wait_report(kernel, display_id)
    assert doc["status"] == "COMPLETED", doc["error"]
    assert seen == [
        "outline",
        "section 1 of 2: plan",
        "edited",
        "section 1 of 2: plan",
        "section 1 of 2: sources",
        "section 1 of 2: section",
        "section 2 of 2: plan",
        "section 2 of 2: sources",
        "section 2 of 2: section",
        "report",
    ]
    assert "# 1. Fire safety" in doc["report_markdown"]
    assert dropped is not None
    assert dropped not in [s["url"] for s in doc["sources"]]
    assert dropped not in [str(c.get("url")) for c in doc["citations"].values()]
    steps: list[dict[str, Any]] = [h for h in doc["hitl"] if h["stage"] == "step"]
    assert [h["step"]["kind"] for h in steps if "action" in h["message"]] == ["plan", "sources"]
    assert_clean(kernel, mark)


def test_cancel_at_a_step_pause_leaves_the_manager_idle(kernel: KernelSession) -> None:
    mark, ids, display_id = start(
        kernel,
        f"h = research(DEMO_QUESTION, step=True, agent_config={CONFIG}, answers=[{ANSWER!r}], answer_timeout=None)",
    )
    assert wait_stop(kernel, 1) == "outline"
    assert kernel.eval_json("[stats().step_pauses, stats().paused_sessions]") == [1, 1]
    kernel.click(ids["cancel"])  # the panel's one Cancel
    doc = wait_report(kernel, display_id)
    assert doc["status"] == "CANCELLED"
    assert_clean(kernel, mark)


def test_eviction_at_a_step_pause_leaves_the_manager_idle(kernel: KernelSession) -> None:
    kernel.execute("from deepsearch_nb.runtime import RunManager\nsmall = RunManager(hitl_capacity=1)")
    mark, _ids, display_id = start(
        kernel,
        f"h = research(DEMO_QUESTION, step=True, agent_config={CONFIG}, answers=[{ANSWER!r}], answer_timeout=None, "
        "manager=small)",
    )
    assert wait_stop(kernel, 1) == "outline"
    kernel.execute(
        "first = h\n"
        f"h = research(DEMO_QUESTION, step=True, agent_config={CONFIG}, answer_timeout=None, manager=small, "
        "display=False)"
    )
    doc = wait_report(kernel, display_id)
    assert doc["status"] == "CANCELLED" and "evicted" in (doc["error"] or "")
    kernel.execute("h.cancel()\nawait h.run.wait(10)\nawait small.drain(10)\nh = first")
    assert kernel.eval_json("small.stats().is_idle")
    assert_clean(kernel, mark)


STOPS = [ANSWER, "continue", "continue", "drop: 1", "continue", "continue", "continue", "continue", "continue"]


def test_fork_at_the_outline_gives_two_live_runs_and_a_comparison(kernel: KernelSession) -> None:
    _mark, ids, display_id = start(
        kernel,
        f"h = research(DEMO_QUESTION, step=True, agent_config={CONFIG}, answers=[{ANSWER!r}], answer_timeout=None)",
    )
    assert wait_stop(kernel, 1) == "outline"
    kernel.click(ids["step_fork"])
    deadline = time.monotonic() + 30
    expr = (
        "[len(h.forks), h.forks[0].state if h.forks else '', len(h.forks[0].run.exchanges) if h.forks else 0, "
        "stats().step_pauses, h.state, h.forks[0].panel is not None if h.forks else False]"
    )
    while kernel.eval_json(expr) != [1, "WAITING_USER_INPUT", 1, 2, "WAITING_USER_INPUT", True]:
        assert time.monotonic() < deadline, kernel.eval_json(expr)
        kernel.pump(0.1)
    assert kernel.eval_json("h.forks[0].run.pending.step.label") == "outline"  # the shared history
    assert kernel.eval_json("h.forks[0].run.conversation_id != h.run.conversation_id")
    kernel.click(ids["step_run_to_end"])  # the original goes one way...
    doc = wait_report(kernel, display_id)
    assert doc["status"] == "COMPLETED"
    edit = {"action": "edit_plan", "title": "Thermal runaway", "description": "Thermal runaway and fire codes."}
    kernel.execute(  # ...the fork another: section 1 planned differently
        "import asyncio\nf = h.forks[0]\n"
        "f.run.submit('continue')\n"
        "while len(f.run.exchanges) < 2 or f.run.pending is None: await asyncio.sleep(0.01)\n"
        f"f.run.submit({edit!r})\n"
        "while len(f.run.exchanges) < 3 or f.run.pending is None: await asyncio.sleep(0.01)\n"
        "f.run.submit('run to end')\n"
        "b = await f\n"
        "c = deepsearch_nb.compare(h.report, b)",
        timeout=60,
    )
    assert kernel.eval_json("[b.doc['status'], c.identical, '# 1. Thermal runaway' in b.doc['report_markdown']]") == [
        "COMPLETED",
        False,
        True,
    ]
    assert kernel.eval_json("stats().is_idle")


def test_a_paused_run_survives_a_kernel_restart(kernel: KernelSession, tmp_path: Path) -> None:
    path = tmp_path / "paused.jsonl"
    start(
        kernel,
        f"h = research(DEMO_QUESTION, step=True, agent_config={CONFIG}, answers={STOPS[:4]!r}, answer_timeout=None, "
        f"transcript={str(path)!r})",
    )
    assert wait_stop(kernel, 4) == "section 1 of 2: section"
    kernel.manager.restart_kernel(now=True)
    kernel.client.wait_for_ready(timeout=60)
    kernel.execute(SETUP + "import asyncio")
    assert kernel.eval_json("stats().is_idle")  # a new kernel: nothing of the old run is left but its transcript
    mark, ids, display_id = start(kernel, f"h = deepsearch_nb.resume({str(path)!r}, answer_timeout=None)")
    answered = 4
    assert wait_stop(kernel, answered) == "section 1 of 2: section"  # the same pause, with the same history
    while wait_stop(kernel, answered):
        kernel.click(ids["step_continue"])
        answered += 1
    doc = wait_report(kernel, display_id)
    assert answered == len(STOPS)
    kernel.execute(
        f"u = await research(DEMO_QUESTION, step=True, agent_config={CONFIG}, answers={STOPS!r}, display=False, "
        "transcript=False)"
    )
    unbroken = kernel.eval_json("u.doc['report_markdown']")
    assert doc["status"] == "COMPLETED" and doc["report_markdown"] == unbroken
    assert_clean(kernel, mark)

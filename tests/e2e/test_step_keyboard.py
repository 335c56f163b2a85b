"""Issue 14 in the browser: a stepped run taken from the question to the report with the keyboard only.

The clarification box takes the focus and Ctrl+Enter sends; at each step pause Continue takes the focus
(asserted each time) and Ctrl+Enter goes on; Shift+Tab reaches the plan's fields, Ctrl+Enter there saves
the edit, Escape leaves a field without sending it. No mouse event is sent; each Ctrl+Enter goes to the
element the test waited to be focused (:func:`wait_for_pause`), since one that strayed to the notebook
would run the cell again; the cell's prompt still reads [1] at the end.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from deepsearch_nb.testing import LabPage, write_notebook

from ._panel import final_report

pytestmark = pytest.mark.browser

START = """\
import deepsearch_nb
from deepsearch_nb import DEMO_QUESTION, LocalResearchAgent

run = deepsearch_nb.research(
    DEMO_QUESTION,
    agent=LocalResearchAgent(pacing=0.02),
    step=True,
    agent_config={"outliner_max_section_num": 2, "outline_interaction_enabled": False},
    answer_timeout=None,
)
"""
ANSWER = "Focus on costs and fire safety."


# Settled at a pause: Continue is shown, enabled and has the focus inside the step bar, and the bar shows
# the pause wanted (a label that differs from the last one, containing `want`); or the report is there.
SETTLED = """([cell, last, want]) => {
  if (cell.querySelector(".jp-OutputArea-output.deepsearch-report")) return "report";
  const step = cell.querySelector(".deepsearch-step");
  const next = step && step.querySelector(".deepsearch-step-continue");
  const info = step && step.querySelector(".deepsearch-step-info");
  const active = document.activeElement;
  if (!next || !info || next.disabled || !next.getClientRects().length) return false;
  if (active !== next || !step.contains(active)) return false;
  const text = info.textContent;
  if (last !== null && text === last) return false;
  return want && !text.includes(want) ? false : text;
}"""


def wait_for_pause(lab: LabPage, cell: Any, *, last: str | None = None, want: str = "") -> str:
    """Wait (no sleep) until the next pause is settled with the focus on its Continue; its label or "report"."""
    handle = lab.page.wait_for_function(SETTLED, arg=[cell.element_handle(), last, want], timeout=90_000)
    value: str = handle.json_value()
    return value


def test_step_through_with_the_keyboard_only(lab: LabPage) -> None:
    lab.step("open")
    path = write_notebook(lab.server, "e2e_step_keyboard.ipynb", [START, ""])
    lab.open_notebook(path)
    keys = lab.page.keyboard
    lab.cell_node(0).locator(".jp-InputArea-editor").focus()  # where a person's keyboard starts: in the cell
    keys.press("Escape")  # command mode
    keys.press("Shift+Enter")  # run it and go to the (empty) next cell, as a person does
    cell = lab.cell_node(0)
    panel = cell.locator(".deepsearch-panel")
    expect(panel).to_be_visible(timeout=60_000)

    lab.step("clarification")
    box = cell.locator(".deepsearch-hitl textarea").first
    expect(box).to_be_visible(timeout=60_000)
    expect(box).to_be_focused(timeout=10_000)
    keys.type(ANSWER)
    keys.press("Control+Enter")

    lab.step("outline")
    info = cell.locator(".deepsearch-step-info")
    step_continue = cell.locator(".deepsearch-step-continue").first
    shown = wait_for_pause(lab, cell, want="Step: outline")
    keys.press("Control+Enter")  # to the focused Continue (a key that strayed would run the cell again)

    lab.step("plan edit")
    shown = wait_for_pause(lab, cell, last=shown, want="section 1 of 2: plan")
    title = cell.locator(".deepsearch-step input[type=text]").first
    # Where the focus falls back between two pauses: the panel itself. A Ctrl+Enter there must not reach
    # JupyterLab (command mode would run the cell again, replacing this panel; the end checks the [1]).
    lab.page.evaluate("(el) => el.focus()", panel.element_handle())
    expect(panel).to_be_focused()
    keys.press("Control+Enter")
    lab.page.evaluate("(el) => el.focus()", step_continue.element_handle())
    expect(step_continue).to_be_focused()
    for _ in range(6):  # back through the plan's fields to its title
        if lab.page.evaluate("(el) => el === document.activeElement", title.element_handle()):
            break
        keys.press("Shift+Tab")
    expect(title).to_be_focused()
    keys.press("Escape")  # leaves the field, sends nothing
    expect(step_continue).to_be_focused()
    expect(info).to_contain_text("section 1 of 2: plan")
    for _ in range(6):
        if lab.page.evaluate("(el) => el === document.activeElement", title.element_handle()):
            break
        keys.press("Shift+Tab")
    expect(title).to_be_focused()
    keys.press("Control+A")
    keys.type("Thermal runaway")
    expect(title).to_be_focused()
    keys.press("Control+Enter")  # Save plan: the pause shows the plan as edited
    shown = wait_for_pause(lab, cell, last=shown, want="Thermal runaway")

    lab.step("to the report")
    for _ in range(40):  # every remaining pause: Continue has the focus, Ctrl+Enter goes on
        keys.press("Control+Enter")
        shown = wait_for_pause(lab, cell, last=shown)
        if shown == "report":
            break
    report = final_report(lab, 0)
    expect(report).to_be_visible(timeout=60_000)
    expect(report.locator(".deepsearch-status")).to_have_text("COMPLETED")
    expect(report).to_contain_text("Thermal runaway")
    expect(cell.locator(".jp-InputPrompt")).to_have_text("[1]:")  # the cell ran once: no key reached it

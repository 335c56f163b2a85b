"""Flow 1: a paced local-agent run steered by a person in the browser, from the first token to the report."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from deepsearch_nb.testing import LabPage, write_notebook

from ._panel import citations_resolve, final_report, grew_while_running, install_trace, trace, wait_trace

pytestmark = pytest.mark.browser

START = """\
import deepsearch_nb
from deepsearch_nb import DEMO_QUESTION, LocalResearchAgent

run = deepsearch_nb.research(DEMO_QUESTION, agent=LocalResearchAgent(pacing=0.02))
"""
ANSWER = "Focus on costs and fire safety for a utility in the United States."


def test_answer_accept_and_read_the_report(lab: LabPage) -> None:
    lab.step("open")
    path = write_notebook(lab.server, "e2e_hitl.ipynb", [START])
    lab.open_notebook(path)
    install_trace(lab, 0)
    lab.step("clarification")
    lab.run_cell(index=0)  # returns at once: the run goes on in the background
    cell = lab.cell_node(0)
    panel = cell.locator(".deepsearch-panel")
    expect(panel).to_be_visible()

    # 1. The clarification questions stream in, then the HITL box asks for an answer.
    hitl = cell.locator(".deepsearch-hitl")
    expect(hitl).to_be_visible(timeout=60_000)
    expect(cell.locator(".deepsearch-panel .deepsearch-status")).to_have_text("WAITING_USER_INPUT")
    events, _ = trace(lab)
    asked_at = next(e.t for e in events if e.hitl and "WAITING_USER_INPUT" in e.status)
    streamed = grew_while_running(events, until=asked_at)
    assert len(streamed) >= 3, f"the questions did not stream in (streamed text lengths while RUNNING: {streamed})"
    lab.screenshot("1-clarification", panel)

    box = cell.locator(".deepsearch-hitl-input textarea, textarea.deepsearch-hitl-input").first
    box.click()
    box.press_sequentially(ANSWER)
    expect(box).to_have_value(ANSWER)
    send = cell.locator(".deepsearch-hitl-submit").filter(visible=True)
    expect(send).to_have_count(1)  # at the clarification only "Send answer" submits
    send.click()

    lab.step("outline review")
    # 2. The outline comes for review: accept it.
    accept = cell.locator(".deepsearch-hitl-accept")
    expect(accept).to_be_visible(timeout=60_000)
    expect(accept).to_be_enabled()
    expect(cell.locator(".deepsearch-panel .deepsearch-status")).to_have_text("WAITING_USER_INPUT")
    lab.screenshot("2-outline-review", panel)
    before_accept = trace(lab)[0][-1].stream
    accepted_at: float = lab.page.evaluate("() => performance.now()")
    accept.click()

    lab.step("writing")
    # 3. The report is written token by token (screenshot mid-stream), then replaces the panel.
    wait_trace(lab, f"e.panel && e.status.includes('RUNNING') && e.stream > {before_accept} + 200")
    lab.screenshot("3-mid-stream", panel)
    report = final_report(lab, 0)
    expect(report).to_be_visible(timeout=120_000)
    expect(panel).to_have_count(0)
    expect(report.locator(".deepsearch-status")).to_have_text("COMPLETED")
    events, _ = trace(lab)
    writing = grew_while_running([e for e in events if e.t >= accepted_at])
    assert len(writing) >= 5, f"the report did not stream in (streamed text lengths while RUNNING: {writing})"

    lab.step("citations")
    # Citations link to entries of the sources list, and following one lands there.
    links = citations_resolve(lab, 0)
    assert links, "the report has no citation links"
    dangling = [link for link in links if not link["target_in_sources"]]
    assert not dangling, f"citation links that do not point into .deepsearch-sources: {dangling}"
    expect(report.locator(".deepsearch-sources li")).not_to_have_count(0)
    lab.screenshot("4-report", report)
    first = report.locator("a.deepsearch-citation").first
    target_id = (first.get_attribute("href") or "#")[1:]
    first.click()
    target = report.locator(f"[id='{target_id}']")
    expect(target).to_be_in_viewport()
    expect(target).to_be_focused()
    lab.screenshot("5-citation-followed")

    # The answer the person typed is part of the run's record.
    expect(report).to_contain_text(ANSWER)
    assert lab.dialogs == []
    lab.assert_no_page_errors()
    lab.assert_no_external_requests()

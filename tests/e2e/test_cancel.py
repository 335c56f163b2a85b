"""Flow 2: the cancel button stops a streaming run at once, and the kernel keeps nothing of it."""

from __future__ import annotations

import itertools
import time

import pytest
from playwright.sync_api import expect

from deepsearch_nb.testing import LabPage, write_notebook

from ._panel import final_report, grew_while_running, install_trace, trace, wait_trace
from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

# Scripted answers take the run straight to the writing stage, where the stream is the longest.
START = """\
import deepsearch_nb
from deepsearch_nb import DEMO_QUESTION, LocalResearchAgent

run = deepsearch_nb.research(
    DEMO_QUESTION, agent=LocalResearchAgent(pacing=0.03), answers=["Focus on costs.", "accept"]
)
"""
# Poll the manager in the kernel (an awaited loop: the kernel stays responsive) until it is idle.
IDLE = """\
import asyncio, time
_t0 = time.monotonic()
while not deepsearch_nb.stats().is_idle and time.monotonic() - _t0 < 5:
    await asyncio.sleep(0.05)
print(deepsearch_nb.stats().is_idle, run.state.value)
"""
CANCEL_WITHIN_MS = 1000.0
QUIET_S = 1.0


def test_cancel_mid_stream(lab: LabPage) -> None:
    lab.step("open")
    path = write_notebook(lab.server, "e2e_cancel.ipynb", [START])
    lab.open_notebook(path)
    install_trace(lab, 0)
    lab.step("run to the writing stage")
    lab.run_cell(index=0)
    cell = lab.cell_node(0)
    panel = cell.locator(".deepsearch-panel")
    expect(panel).to_be_visible()

    # Mid-stream: the report is being written and the panel's text keeps growing.
    expect(cell.locator(".deepsearch-progress-stage")).to_have_text("writing", timeout=60_000)
    writing_from = trace(lab)[0][-1].stream
    wait_trace(lab, f"e.panel && e.status.includes('RUNNING') && e.stream > {writing_from} + 100")
    lab.screenshot("1-streaming", panel)
    lab.step("cancel")
    cell.locator(".deepsearch-cancel").click()

    # CANCELLED is shown within a second of the click (both times taken in the page).
    wait_trace(lab, "e.status.includes('CANCELLED')", timeout_ms=10_000)
    events, click_at = trace(lab)
    assert click_at is not None, "the click on .deepsearch-cancel was not seen"
    cancelled_at = next(e.t for e in events if e.t >= click_at and "CANCELLED" in e.status)
    latency_ms = cancelled_at - click_at
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{lab.test_name}-latency.txt").write_text(f"cancel click -> CANCELLED shown: {latency_ms:.0f} ms\n")
    assert latency_ms < CANCEL_WITHIN_MS, f"CANCELLED took {latency_ms:.0f} ms to show"
    streamed = [n for n in grew_while_running(events, until=click_at) if n > writing_from]
    assert len(streamed) >= 3, f"the report was not streaming when cancelled: {streamed}"

    # The run ended: the panel's slot now holds the report of the cancelled run.
    report = final_report(lab, 0)
    expect(report).to_be_visible(timeout=10_000)
    # After CANCELLED the panel's stream may take one last flush (text the kernel had buffered before the
    # click, at most one flush interval's worth), then nothing until the report replaces the panel.
    events, _ = trace(lab)
    lengths = [e.stream for e in events if e.t >= cancelled_at and e.panel]
    growths = [b - a for a, b in itertools.pairwise(lengths) if b > a]
    assert len(growths) <= 1, f"text kept streaming into the panel after CANCELLED: {lengths}"
    expect(report.locator(".deepsearch-status")).to_have_text("CANCELLED")
    expect(report.locator(".deepsearch-body .deepsearch-empty")).to_have_count(0)  # the partial text is kept
    lab.screenshot("2-cancelled", report)

    # Nothing streams any more: the output does not change for a while after the end.
    settled = len(trace(lab)[0])
    deadline = time.monotonic() + QUIET_S
    while time.monotonic() < deadline:
        lab.page.wait_for_timeout(100)
        events, _ = trace(lab)
        assert len(events) == settled, f"the output changed after the cancel: {events[settled - 1 :]}"

    lab.step("kernel bookkeeping")
    # The kernel's bookkeeping is empty.
    assert lab.run_python(IDLE) == "True CANCELLED"
    assert lab.dialogs == []
    lab.assert_no_page_errors()
    lab.assert_no_external_requests()

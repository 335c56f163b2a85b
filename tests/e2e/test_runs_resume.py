"""Issue 18: a saved run that stopped paused is resumed from the runs sidebar after its kernel restarted.

The run waits at its clarification question; the kernel restarts (the run is gone, its transcript has no end
line); the sidebar lists the transcript as unfinished with the question it stopped at and a Resume button;
Resume adds a cell below the active one running ``deepsearch_nb.resume(".deepsearch/transcripts/...")``, and
that cell's panel waits at the same question.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from deepsearch_nb.testing import LabPage, write_notebook

pytestmark = pytest.mark.browser

QUESTION = "Paused question about heat pumps?"
WAITING = f"""\
import deepsearch_nb
waiting = deepsearch_nb.research(
    "{QUESTION}", answer_timeout=None, agent_config={{"outline_interaction_enabled": False}},
    transcript=".deepsearch/transcripts/",  # the default place (the test suite sends the default elsewhere)
)
"""
SIDEBAR = "#deepsearch-nb-runs"


def test_a_paused_run_is_resumed_from_the_sidebar_after_a_kernel_restart(lab: LabPage) -> None:
    folder = "resume18"
    path = write_notebook(lab.server, f"{folder}/paused.ipynb", [WAITING])
    lab.open_notebook(path)
    lab.step("the run waits at its question")
    lab.run_cell(index=0)
    first = lab.cell_node(0)
    expect(first.locator(".deepsearch-hitl")).to_be_visible(timeout=60_000)
    asked = first.locator(".deepsearch-hitl").inner_text()

    lab.step("restart the kernel: the paused run is a saved transcript with a Resume button")
    lab.page.evaluate(
        "async () => { await window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart(); }"
    )
    lab.wait_kernel_idle()
    lab.page.evaluate("() => window.jupyterapp.shell.activateById('deepsearch-nb-runs')")
    row = lab.page.locator(
        f'{SIDEBAR} .deepsearch-runs-group[data-notebook="{folder}"] .deepsearch-runs-row[data-source="saved"]'
    ).filter(has_text=QUESTION)
    expect(row).to_have_count(1, timeout=30_000)
    expect(row).to_have_attribute("data-status", "UNFINISHED")
    expect(row).to_contain_text("paused at:")
    resume = lab.page.get_by_role("button", name=f"Resume: {QUESTION}")
    expect(resume).to_have_count(1)
    lab.screenshot("1-resumable", lab.page.locator(SIDEBAR))

    lab.step("Resume: a new cell below runs deepsearch_nb.resume and waits at the same question")
    lab.page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0; }")
    resume.click()
    second = lab.cell_node(1)
    expect(second.locator(".deepsearch-hitl")).to_be_visible(timeout=60_000)
    source: str = lab.page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[1].model.sharedModel.getSource()"
    )
    assert re.fullmatch(
        r'import deepsearch_nb\ndeepsearch_nb\.resume\("\.deepsearch/transcripts/[^"/]+\.jsonl"\)', source
    ), source
    expect(second.locator(".deepsearch-panel .deepsearch-status")).to_have_text("WAITING_USER_INPUT")
    assert second.locator(".deepsearch-hitl").inner_text() == asked
    expect(lab.page.locator(f"{SIDEBAR} .deepsearch-runs-notice")).to_contain_text(f"Resuming in {path}")
    expect(
        lab.page.locator(
            f'{SIDEBAR} .deepsearch-runs-row[data-source="live"][data-status="WAITING_USER_INPUT"]'
        ).filter(has_text=QUESTION)
    ).to_have_count(1, timeout=30_000)
    lab.screenshot("2-resumed")
    lab.assert_no_page_errors()

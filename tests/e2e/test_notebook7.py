"""Issue 18: Jupyter Notebook 7 gets the same extension as JupyterLab (installed once, into both).

In Notebook 7: a question answered in the panel's HITL box, a run cancelled with the panel's Cancel, and
the report rendered by the extension (not by a fallback); the runs sidebar is there too (Notebook 7 has
no status bar).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from deepsearch_nb.testing import LabPage, LabServer, make_lab_server, write_notebook

from ._panel import final_report
from .conftest import close_lab_page, new_lab_page

pytestmark = pytest.mark.browser

ANSWERED = """\
import deepsearch_nb
from deepsearch_nb import DEMO_QUESTION, LocalResearchAgent
answered = deepsearch_nb.research(
    DEMO_QUESTION, agent=LocalResearchAgent(pacing=0.01), agent_config={"outline_interaction_enabled": False}
)
"""
CANCELLED = """\
cancelled = deepsearch_nb.research(
    "A run to cancel in Notebook 7", agent=LocalResearchAgent(pacing=0.2),
    agent_config={"workflow_human_in_the_loop": False, "outline_interaction_enabled": False},
)
"""


@dataclasses.dataclass
class NotebookServer(LabServer):
    """The same server set-up as JupyterLab's, started as Jupyter Notebook 7."""

    app_module = "notebook"

    @property
    def app_name(self) -> str:
        return "Notebook 7"

    def app_options(self) -> list[str]:
        return ["--JupyterNotebookApp.expose_app_in_browser=True"]


@pytest.fixture(scope="module")
def nb7_server(lab_home: Path) -> Iterator[NotebookServer]:
    pytest.importorskip("notebook", minversion="7")
    base = make_lab_server(lab_home, "nb7", lab_home / "notebooks", lab_home / "data", ())
    server = NotebookServer(**{f.name: getattr(base, f.name) for f in dataclasses.fields(LabServer)})
    # JupyterLab's notification settings (written for the Lab servers) name a plugin Notebook 7 does not
    # load; its settings registry then fails on the missing schema, an error of the page that is not ours.
    for settings in (server.home / "lab-settings").rglob("*.jupyterlab-settings"):
        settings.unlink()
    (lab_home / "notebooks").mkdir(exist_ok=True)
    server.start()
    try:
        yield server
    finally:
        server.shutdown_kernels()
        server.stop()


@pytest.fixture
def nb7(browser: Any, nb7_server: NotebookServer, request: pytest.FixtureRequest) -> Iterator[LabPage]:
    context, page = new_lab_page(browser, nb7_server, "notebook7")
    try:
        yield page
    finally:
        close_lab_page(request.node, context, page)


def _open(page: LabPage, path: str) -> None:
    page.path = path
    page.page.goto(page.server.url(f"notebooks/{path}?token={page.server.token}"), wait_until="domcontentloaded")
    page.wait_app()
    page.wait_notebook_ready()


def test_notebook7_hitl_cancel_and_report(nb7: LabPage) -> None:
    path = write_notebook(nb7.server, "e2e_notebook7.ipynb", [ANSWERED, CANCELLED])
    nb7.step("open in Notebook 7")
    _open(nb7, path)
    expect(nb7.page.locator("#deepsearch-nb-runs")).to_have_count(1)  # the runs sidebar is installed here too

    nb7.step("answer the clarification in the panel")
    nb7.run_cell(index=0)
    cell = nb7.cell_node(0)
    box = cell.locator(".deepsearch-hitl-input textarea, textarea.deepsearch-hitl-input").first
    expect(box).to_be_visible(timeout=60_000)
    box.fill("Focus on costs for a utility in the United States.")
    cell.locator(".deepsearch-hitl-submit").filter(visible=True).click()
    report = final_report(nb7, 0)
    expect(report).to_be_visible(timeout=120_000)
    expect(report.locator(".deepsearch-status")).to_have_text("COMPLETED")
    nb7.screenshot("1-report", report)

    nb7.step("cancel a run in the panel")
    nb7.run_cell(index=1)
    running = nb7.cell_node(1)
    expect(running.locator(".deepsearch-panel .deepsearch-status")).to_have_text("RUNNING", timeout=60_000)
    running.locator(".deepsearch-cancel").click()
    cancelled = final_report(nb7, 1)
    expect(cancelled).to_be_visible(timeout=60_000)
    expect(cancelled.locator(".deepsearch-status")).to_have_text("CANCELLED")
    nb7.screenshot("2-cancelled", cancelled)
    # Notebook 7.6's own settings registry throws this at load here, with this package's extension disabled
    # too (checked by disabling it); any other uncaught error fails the test.
    foreign = "Cannot read properties of undefined (reading 'schema')"
    assert [e for e in nb7.page_errors if e != foreign] == [], nb7.page_errors

"""Issue 18: the runs sidebar and the status-bar item in JupyterLab.

Two notebooks with runs in three states (completed, waiting for an answer, running) appear under their
notebooks; Cancel from the sidebar ends the live run (CANCELLED in its cell too); the waiting run shows in
the status bar and is answered from the sidebar; after a kernel restart the sidebar shows the saved runs and
opens one; a saved report outside the server's root (linked into it) is never listed.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Locator, expect

from deepsearch_nb.testing import LabPage, write_notebook

pytestmark = pytest.mark.browser

NO_HITL = '{"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}'
COMPLETED = f"""\
import deepsearch_nb
done = await deepsearch_nb.research("Completed question about battery costs?", agent_config={NO_HITL})
"""
WAITING = """\
waiting = deepsearch_nb.research(
    "Waiting question about fire safety?", answer_timeout=None,
    agent_config={"outline_interaction_enabled": False},
)
"""
RUNNING = f"""\
import deepsearch_nb
from deepsearch_nb import LocalResearchAgent
running = deepsearch_nb.research(
    "Running question about recycling?", agent=LocalResearchAgent(pacing=0.2), agent_config={NO_HITL}
)
"""
SIDEBAR = "#deepsearch-nb-runs"


def _row(lab: LabPage, notebook: str, status: str) -> Locator:
    found: Locator = lab.page.locator(
        f'{SIDEBAR} .deepsearch-runs-group[data-notebook="{notebook}"] .deepsearch-runs-row[data-status="{status}"]'
    )
    return found


def _cell_report_status(lab: LabPage, path: str, index: int) -> str | None:
    status: str | None = lab.page.evaluate(
        """([path, index]) => {
            for (const w of window.jupyterapp.shell.widgets('main')) {
                if (!w.context || w.context.path !== path) continue;
                for (const out of w.content.widgets[index].model.outputs.toJSON()) {
                    const doc = out.data && out.data['application/vnd.deepsearch.report+json'];
                    if (doc) return doc.status;
                }
            }
            return null;
        }""",
        [path, index],
    )
    return status


def test_runs_sidebar_and_status_bar(lab: LabPage) -> None:
    server = lab.server
    outside = server.root_dir.parent / "outside-runs"
    outside.mkdir(exist_ok=True)
    report = {
        "schema_version": 1,
        "question": "Outside secret question",
        "status": "COMPLETED",
        "report_markdown": "x",
        "sources": [],
        "hitl": [],
        "agent": {"kind": "x", "config": {}},
        "timings": {"started_at": "2026-01-01T00:00:00Z", "elapsed_s": 1},
        "package_version": "0",
    }
    (outside / "secret.json").write_text(json.dumps(report), encoding="utf-8")
    link = server.root_dir / "linked-outside.json"
    if not link.exists():
        link.symlink_to(outside / "secret.json")

    lab.step("notebook A: a completed and a waiting run")
    a = write_notebook(server, "runs_a.ipynb", [COMPLETED, WAITING])
    lab.open_notebook(a)
    lab.run_cell(index=0, timeout_ms=120_000)
    lab.run_cell(index=1)
    lab.step("notebook B: a running run")
    b = write_notebook(server, "runs_b.ipynb", [RUNNING])
    lab.page.evaluate("async (p) => { await window.jupyterapp.commands.execute('docmanager:open', {path: p}); }", b)
    lab.path = b
    lab.wait_notebook_ready()
    lab.run_cell(index=0)

    lab.step("the sidebar lists them under their notebooks")
    lab.page.evaluate("() => window.jupyterapp.shell.activateById('deepsearch-nb-runs')")
    expect(_row(lab, a, "COMPLETED")).to_have_count(1, timeout=30_000)
    expect(_row(lab, a, "WAITING_USER_INPUT")).to_have_count(1, timeout=30_000)
    expect(_row(lab, b, "RUNNING")).to_have_count(1, timeout=30_000)
    status = lab.page.locator(".deepsearch-runs-status-item")
    expect(status).to_have_text("1 running · 1 waiting for you", timeout=30_000)
    expect(lab.page.locator(SIDEBAR)).not_to_contain_text("Outside secret question")
    lab.screenshot("1-three-states")

    lab.step("Cancel from the sidebar")
    _row(lab, b, "RUNNING").locator(".deepsearch-runs-cancel").click()
    expect(_row(lab, b, "CANCELLED")).to_have_count(1, timeout=30_000)
    lab.page.wait_for_function(
        """(p) => { for (const w of window.jupyterapp.shell.widgets('main')) {
            if (w.context && w.context.path === p) {
                return JSON.stringify(w.content.widgets[0].model.outputs.toJSON()).includes('"CANCELLED"'); } }
            return false; }""",
        arg=b,
        timeout=30_000,
    )
    assert _cell_report_status(lab, b, 0) == "CANCELLED"
    expect(status).to_have_text("1 waiting for you", timeout=30_000)

    lab.step("answer the waiting run from the sidebar")
    waiting = _row(lab, a, "WAITING_USER_INPUT")
    waiting.locator(".deepsearch-runs-answer").fill("Focus on utilities in the United States.")
    waiting.locator(".deepsearch-runs-send").click()
    expect(_row(lab, a, "COMPLETED")).to_have_count(2, timeout=120_000)
    expect(status).to_have_text("DeepSearch: no live runs", timeout=30_000)

    lab.step("restart A's kernel: the saved runs stay and open")
    # The sidebar's row follows the run's events; the cell's report replaces its panel a moment later
    # (a display update): save only once both cells hold their report, or the file has one.
    lab.page.wait_for_function(
        """(p) => { for (const w of window.jupyterapp.shell.widgets('main')) {
            if (w.context && w.context.path === p) {
                return w.content.widgets.slice(0, 2).every((cell) => cell.model.outputs.toJSON().some(
                    (out) => out.data && (out.data['application/vnd.deepsearch.report+json'] || {}).status
                        === 'COMPLETED')); } }
            return false; }""",
        arg=a,
        timeout=60_000,
    )
    assert [_cell_report_status(lab, a, i) for i in (0, 1)] == ["COMPLETED", "COMPLETED"]
    lab.page.evaluate(
        """async (p) => { for (const w of window.jupyterapp.shell.widgets('main')) {
            if (w.context && w.context.path === p) {
                await w.context.save();
                await w.sessionContext.session.kernel.restart(); } } }""",
        a,
    )
    saved = lab.page.locator(
        f'{SIDEBAR} .deepsearch-runs-group[data-notebook="{a}"] .deepsearch-runs-row[data-source="saved"]'
    )
    expect(saved).to_have_count(2, timeout=30_000)
    expect(
        lab.page.locator(f'{SIDEBAR} .deepsearch-runs-row[data-source="live"]').filter(has_text="battery")
    ).to_have_count(0)
    saved.first.locator(".deepsearch-runs-open").click()
    expect(lab.page.locator(".deepsearch-saved-report .deepsearch-report")).to_be_visible(timeout=30_000)
    expect(lab.page.locator(SIDEBAR)).not_to_contain_text("Outside secret question")
    lab.screenshot("2-saved-report-open")
    lab.assert_no_page_errors()

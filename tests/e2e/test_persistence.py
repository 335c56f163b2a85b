"""Flow 3: a finished run's report survives saving, a kernel shutdown and a reload; without the extension
the HTML/Markdown fallback shows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from deepsearch_nb.testing import LabPage, LabServer, read_notebook, write_notebook

from ._panel import REPORT_MIME, fallback_output, final_report

pytestmark = pytest.mark.browser

START = """\
import deepsearch_nb
from deepsearch_nb import DEMO_ANSWERS, DEMO_QUESTION, LocalResearchAgent

run = deepsearch_nb.research(DEMO_QUESTION, agent=LocalResearchAgent(), answers=DEMO_ANSWERS)
"""
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
BROKEN = ("model not found", "Error displaying widget", "Could not render", "No renderer")


def rendered_mimetypes(lab: LabPage) -> list[str]:
    mimes: list[str] = lab.page.evaluate("() => window.jupyterapp.shell.currentWidget.content.rendermime.mimeTypes")
    return mimes


def assert_nothing_broken(lab: LabPage) -> None:
    text = lab.body_text()
    shown = [phrase for phrase in BROKEN if phrase.lower() in text.lower()]
    assert not shown, f"the page shows {shown}"


def saved_report(server: LabServer, path: str) -> dict[str, Any]:
    """The report output of cell 0 as saved on disk (the panel must be gone from it)."""
    outputs: list[dict[str, Any]] = read_notebook(server, path)["cells"][0]["outputs"]
    mimes = [set(out.get("data", {})) for out in outputs]
    assert not any(WIDGET_MIME in m for m in mimes), f"a widget view was saved: {mimes}"
    reports = [out for out in outputs if REPORT_MIME in out.get("data", {})]
    assert len(reports) == 1, f"expected one report output, saved: {mimes}"
    data: dict[str, Any] = reports[0]["data"]
    assert {"text/html", "text/markdown", "text/plain"} <= set(data), f"missing fallbacks: {sorted(data)}"
    return data


def test_report_survives_save_shutdown_and_reload(
    lab: LabPage, open_lab: Callable[[LabServer], LabPage], noext_server: LabServer
) -> None:
    lab.step("open")
    path = write_notebook(lab.server, "e2e_persist.ipynb", [START])
    lab.open_notebook(path)
    assert REPORT_MIME in rendered_mimetypes(lab), "the report extension is not active on the main server"
    lab.step("run")
    lab.run_cell(index=0)
    report = final_report(lab, 0)
    expect(report).to_be_visible(timeout=60_000)
    expect(report.locator(".deepsearch-status")).to_have_text("COMPLETED")
    expect(lab.cell_node(0).locator(".deepsearch-panel")).to_have_count(0)

    lab.step("save, shutdown")
    lab.save()
    data = saved_report(lab.server, path)
    doc = data[REPORT_MIME]
    assert doc["status"] == "COMPLETED" and doc["sources"], doc
    lab.shutdown_kernel()

    lab.step("reload")
    # Reload: a new page load, no widget models anywhere; the report renders from the saved output.
    lab.open_notebook(path, kernel=False)
    report = final_report(lab, 0)
    expect(report).to_be_visible()
    expect(report.locator(".deepsearch-status")).to_have_text("COMPLETED")
    expect(report.locator(".deepsearch-sources li")).to_have_count(len(doc["sources"]))
    expect(report.locator("a.deepsearch-citation").first).to_be_visible()
    assert_nothing_broken(lab)
    lab.screenshot("1-reloaded", report)
    lab.assert_no_page_errors()
    lab.assert_no_external_requests()

    # The same notebook on a server with the extension disabled: the HTML fallback shows the report.
    lab.step("fallback server")
    plain = open_lab(noext_server)
    lab.step("fallback page")
    plain.open_notebook(path, kernel=False)
    assert REPORT_MIME not in rendered_mimetypes(plain), "the extension is still active"
    expect(plain.cell_node(0).locator(".jp-OutputArea-output")).to_have_count(1)
    output = fallback_output(plain, 0)
    expect(output).to_be_visible()
    expect(final_report(plain, 0)).to_have_count(0)
    title = doc["title"] or doc["question"]
    expect(output).to_contain_text(title)
    for source in doc["sources"]:
        expect(output).to_contain_text(source["title"])
    assert_nothing_broken(plain)
    plain.screenshot("2-fallback", output)
    plain.assert_no_page_errors()
    plain.assert_no_external_requests()

"""Issue 15 in the browser: a citation shows its passage, source and place on hover and on keyboard
focus, and the report's header shows the citation check's counts; a hostile passage stays inert there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from deepsearch_nb import Report
from deepsearch_nb.testing import LabPage, save_output_notebook

from ._panel import REPORT_MIME, final_report

pytestmark = pytest.mark.browser

REPORTS = Path(__file__).resolve().parents[1] / "data" / "reports"


def _notebook_with(lab: LabPage, name: str, fixture: str) -> dict[str, Any]:
    """A notebook whose one cell holds the fixture report as a saved output (no kernel needed)."""
    doc = json.loads((REPORTS / f"{fixture}.json").read_text(encoding="utf-8"))
    bundle = Report.from_document(doc)._repr_mimebundle_()
    save_output_notebook(lab.server, name, bundle)
    lab.open_notebook(name, kernel=False)
    assert bundle[REPORT_MIME]["citation_check"]
    return dict(bundle[REPORT_MIME])


def test_hovering_and_focusing_a_citation_shows_its_passage(lab: LabPage) -> None:
    doc = _notebook_with(lab, "e2e_cited.ipynb", "cited")
    report = final_report(lab, 0)
    expect(report).to_be_visible()
    lab.step("header")
    summary = report.locator(".deepsearch-citation-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_text(doc["citation_check"]["summary"])
    cites = report.locator(".deepsearch-body sup.deepsearch-cite")
    expect(cites).to_have_count(len(doc["citation_check"]["markers"]))

    lab.step("hover")
    first = cites.nth(0)
    marker = doc["citation_check"]["markers"][0]
    passage = doc["evidence"][str(marker["n"])]["passages"][marker["passage"]]["text"]
    popup = first.locator(".deepsearch-evidence")
    expect(popup).to_be_hidden()
    first.locator("a.deepsearch-citation").hover()
    expect(popup).to_be_visible()
    expect(popup.locator("q")).to_have_text(passage)
    expect(popup).to_contain_text(doc["evidence"][str(marker["n"])]["title"])
    expect(popup).to_contain_text(f"line {doc['evidence'][str(marker['n'])]['passages'][marker['passage']]['line']}")
    lab.screenshot("1-hover", report)

    lab.step("focus")
    summary.hover()  # the pointer leaves the citation
    expect(popup).to_be_hidden()
    k = next(i for i, m in enumerate(doc["citation_check"]["markers"]) if m["status"] == "weak")
    weak = cites.nth(k)
    link = weak.locator("a.deepsearch-citation")
    expect(link).to_have_text(f"[{doc['citation_check']['markers'][k]['n']}?]")  # marked weak in the text
    link.focus()
    lab.page.keyboard.press("Shift+Tab")
    lab.page.keyboard.press("Tab")  # reached by the keyboard, as a reader tabbing through would
    expect(link).to_be_focused()
    expect(weak.locator(".deepsearch-evidence")).to_be_visible()
    expect(weak.locator(".deepsearch-evidence")).to_contain_text("Weak")
    described = link.get_attribute("aria-describedby")
    assert described and weak.locator(f"#{described}").count() == 1
    lab.screenshot("2-focus", report)
    lab.assert_no_page_errors()
    lab.assert_no_external_requests()


def test_a_hostile_passage_stays_inert_in_the_hover_view(lab: LabPage) -> None:
    doc = _notebook_with(lab, "e2e_hostile_cited.ipynb", "hostile")
    report = final_report(lab, 0)
    expect(report).to_be_visible()
    lab.page.evaluate("() => { window.__alerts = 0; window.alert = () => { window.__alerts += 1; }; }")
    cite = report.locator(".deepsearch-body sup.deepsearch-cite").first
    cite.locator("a.deepsearch-citation").hover()
    popup = cite.locator(".deepsearch-evidence")
    expect(popup).to_be_visible()
    expect(popup.locator("q")).to_have_text(" ".join(doc["evidence"]["1"]["passages"][0]["text"].split()))
    assert popup.locator("script, img, svg, b, [onerror], [onmouseover]").count() == 0
    assert lab.page.evaluate("() => window.__alerts") == 0
    lab.screenshot("hostile-hover", report)
    lab.assert_no_page_errors()
    lab.assert_no_external_requests()

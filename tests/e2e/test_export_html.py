"""The exported HTML report in Chromium: served from 127.0.0.1 (the Jupyter server's /files), it loads
nothing from any host, every citation link lands on its entry in the page's own sources list, and the
hostile fixture stays inert (no script ran, no dialog, no live element or handler)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deepsearch_nb import Report
from deepsearch_nb.testing import LabPage, LabServer

from .conftest import REPO, close_lab_page, new_lab_page

pytestmark = pytest.mark.browser

DATA = REPO / "tests" / "data" / "reports"
RECORDING = REPO / "notebooks" / "transcripts" / "battery_storage.jsonl"

_LIVE = """() => {
    const found = [];
    for (const el of document.querySelectorAll('script, iframe, object, embed, frame, form, base, img, svg, link')) {
        found.push('<' + el.localName + '>');
    }
    for (const el of document.querySelectorAll('*')) {
        for (const attr of el.attributes) {
            const value = attr.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
            if (attr.name.startsWith('on')) found.push(el.localName + '[' + attr.name + ']');
            if (/^(javascript|vbscript|data):/.test(value)) found.push(el.localName + '[' + attr.name + ']');
        }
    }
    return found;
}"""


@pytest.fixture
def page(browser: Any, lab_server: LabServer, request: pytest.FixtureRequest) -> Iterator[LabPage]:
    context, lab = new_lab_page(browser, lab_server, request.node.name)
    requests: list[str] = []
    lab.page.on("request", lambda r: requests.append(r.url))
    lab.requests = requests  # type: ignore[attr-defined]
    try:
        yield lab
    finally:
        close_lab_page(request.node, context, lab)


def _serve(server: LabServer, report: Report, name: str) -> str:
    """Write the export into the server's notebooks folder; its URL on 127.0.0.1."""
    report.save(server.root_dir / name)
    return server.url(f"files/{name}?token={server.token}")


def _replayed_report(tmp_path: Path) -> Report:
    """The committed notebook transcript replayed by the CLI (a real local-agent report with citations)."""
    out = tmp_path / "replayed.json"
    command = [sys.executable, "-m", "deepsearch_nb.cli", "replay", str(RECORDING), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return Report.load(out)


def test_exported_html_loads_nothing_and_every_citation_lands_on_its_source(
    page: LabPage, lab_server: LabServer, tmp_path: Path
) -> None:
    report = _replayed_report(tmp_path)
    url = _serve(lab_server, report, "export-replayed.html")
    page.page.goto(url, wait_until="load")
    assert page.page.title() == report.title
    links = page.page.eval_on_selector_all(
        'body a[href^="#source-"]', "els => els.map(e => [e.getAttribute('href'), e.textContent])"
    )
    assert len(links) >= 10, links
    assert {href for href, _ in links} <= {f"#source-{s.index}" for s in report.sources}
    for number, (href, text) in enumerate(links):
        index = href.removeprefix("#source-")
        assert text == f"[{index}]"
        page.page.locator('body a[href^="#source-"]').nth(number).click()
        landed = page.page.evaluate("() => [location.hash, document.querySelector(':target')?.textContent || '']")
        source = next(s for s in report.sources if str(s.index) == index)
        assert landed[0] == href and landed[1].startswith(f"[{index}] {source.title}"), (href, landed)
    page.screenshot("export-replayed")
    assert page.requests == [url]  # type: ignore[attr-defined]  # the page itself, nothing else
    assert page.external_requests == [] and page.page.evaluate(_LIVE) == []


def test_the_hostile_report_exported_as_html_stays_inert(page: LabPage, lab_server: LabServer) -> None:
    hostile = Report.load(DATA / "hostile.json")
    url = _serve(lab_server, hostile, "export-hostile.html")
    page.page.goto(url, wait_until="load")
    for link in page.page.locator("body a").all():  # clicking anything must not run anything either
        if (link.get_attribute("href") or "").startswith("#"):
            link.click()
    page.page.wait_for_timeout(300)
    assert page.page.evaluate("() => window.__pwned === undefined")
    assert page.dialogs == [] and page.page_errors == []
    assert page.page.evaluate(_LIVE) == []
    assert "alert(" in page.page.inner_text("body")  # the payloads are shown as text
    page.screenshot("export-hostile")
    assert page.requests == [url]  # type: ignore[attr-defined]
    assert page.external_requests == []

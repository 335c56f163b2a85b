"""Issue 12, finding 1, in the browser: a source whose file lives under the Jupyter server's root gets a
link to the file itself, computed against that root (not the notebook's folder); the link serves the file
(no 404) and opens it in JupyterLab. The demo corpus lives inside the installed package, outside any
server root, so this test copies it under the root and researches there."""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

import deepsearch_nb
from deepsearch_nb import DEMO_ANSWERS, DEMO_QUESTION, LocalResearchAgent
from deepsearch_nb.testing import LabPage, save_output_notebook

from ._panel import REPORT_MIME, final_report

pytestmark = pytest.mark.browser

DEMO_CORPUS = Path(deepsearch_nb.__file__).parent / "data" / "corpus"


def _report_on(corpus: Path) -> dict[str, Any]:
    async def research() -> dict[str, Any]:
        report = await deepsearch_nb.research(
            DEMO_QUESTION, agent=LocalResearchAgent(corpus), answers=list(DEMO_ANSWERS), display=False
        )
        return dict(report._repr_mimebundle_())

    # Playwright's sync API holds this thread's event loop: research on a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, research()).result(timeout=120)


def test_a_source_under_the_server_root_links_to_its_file(lab: LabPage) -> None:
    root = lab.server.root_dir
    corpus = root / "team" / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus, dirs_exist_ok=True)
    bundle = _report_on(corpus)
    # The notebook sits in another folder than the corpus: a link resolved against it would 404.
    save_output_notebook(lab.server, "analysis/e2e_files.ipynb", bundle)
    lab.open_notebook("analysis/e2e_files.ipynb", kernel=False)
    report = final_report(lab, 0)
    expect(report).to_be_visible()

    lab.step("links")
    links = report.locator(".deepsearch-sources a.deepsearch-source-link", has_text="open the file")
    sources = bundle[REPORT_MIME]["sources"]
    expect(links).to_have_count(len(sources))
    hrefs = links.evaluate_all("(els) => els.map((a) => a.getAttribute('href'))")
    for href, source in zip(hrefs, sources, strict=True):
        rel = Path(source["file"]).relative_to(root).as_posix()
        assert href.endswith(f"/files/{rel}"), (href, rel)
        auth = {"Authorization": f"token {lab.server.token}"}
        response = lab.page.request.get(lab.server.url(href.lstrip("/")), headers=auth)
        assert response.status == 200, (href, response.status)
        assert response.text() == Path(source["file"]).read_text(encoding="utf-8")

    lab.step("open")
    first = Path(sources[0]["file"]).name
    links.nth(0).click()
    expect(lab.page.locator(".lm-TabBar-tabLabel", has_text=first)).to_be_visible(timeout=30_000)
    lab.assert_no_page_errors()

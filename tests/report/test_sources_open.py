"""Issue 12, finding 1: every source of a local-agent report opens something readable wherever its file lives:
the report carries each source's quoted passages and its text, and the file's path for the viewer to link
only under the Jupyter server's root; the HTML fallback anchors citations to entries that hold them."""

from __future__ import annotations

import os
from pathlib import Path

from bs4 import BeautifulSoup

import deepsearch_nb
from deepsearch_nb import DEMO_ANSWERS, DEMO_QUESTION, LocalResearchAgent


async def test_every_source_carries_its_passages_its_text_and_its_file() -> None:
    report = await deepsearch_nb.research(
        DEMO_QUESTION, agent=LocalResearchAgent(), answers=list(DEMO_ANSWERS), display=False
    )
    sources = report.doc["sources"]
    assert len(sources) >= 10
    cited = {int(n) for n in report.doc["citations"]}
    for source in sources:
        assert source["document"].strip(), source["title"]
        assert Path(source["file"]).is_absolute() and os.path.isfile(source["file"])  # noqa: ASYNC240
        if source["index"] in cited:
            assert source["passages"], source["title"]
            assert all(p in source["document"] for p in source["passages"])  # quoted verbatim
    page = BeautifulSoup(report._repr_mimebundle_()["text/html"], "html.parser")
    entries = page.select(".deepsearch-sources li")
    assert len(entries) == len(sources)
    for entry, source in zip(entries, sources, strict=True):
        assert entry.find("details") is not None  # opens in place: the passage and the document
        assert all(str(a.get("href", "")).startswith("http") for a in entry.find_all("a"))  # no dead paths
        assert source["title"] in entry.get_text()
    for link in page.select(".deepsearch-body a"):
        href = str(link.get("href"))
        if link.get_text().startswith("["):  # a citation: to its entry on the same page
            assert page.find(id=href[1:]) is not None, href


async def test_the_standalone_page_and_the_markdown_open_every_source_too(tmp_path: Path) -> None:
    """Issue 12, finding 1 (left last time): ``report.save("r.html")`` listed the sources with nothing to
    open, and the Markdown fallback showed no passage. The page now folds each source's passages and
    document under its entry (citations jump there); the Markdown quotes the passages under each source."""
    report = await deepsearch_nb.research(
        DEMO_QUESTION, agent=LocalResearchAgent(), answers=list(DEMO_ANSWERS), display=False
    )
    sources = report.doc["sources"]
    path = report.save(tmp_path / "r.html")
    page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for source in sources:
        entry = page.find(id=f"source-{source['index']}")
        assert entry is not None, source["title"]
        details = entry.find("details")
        assert details is not None, source["title"]
        assert source["document"].strip()[:200] in details.get_text()
        for passage in source.get("passages") or []:
            assert " ".join(passage.split())[:80] in " ".join(details.get_text().split())
    markdown = report._repr_mimebundle_()["text/markdown"]
    listed = markdown[markdown.index("## Sources") :]
    for source in sources:
        for passage in source.get("passages") or []:
            first = next(line for line in passage.split("\n") if line.strip())
            assert first.strip()[:40] in listed.replace("\\", ""), source["title"]

"""Citations a reader can check (issue 15): the evidence behind each [n], and the check of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from markdown_it import MarkdownIt

import deepsearch_nb
from deepsearch_nb import LocalResearchAgent, Report
from deepsearch_nb._agents._local import demo_corpus_path
from deepsearch_nb.agents import DEMO_QUESTION
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import StubLLM

ANSWERS = {"clarification": "costs and safety", "outline_review": ["accepted"]}
DATA = Path(__file__).parent.parent / "data" / "reports"
INVENTED = "Grid batteries cure every known disease of the heart"


async def _report(agent: LocalResearchAgent) -> Report:
    return await deepsearch_nb.research(
        DEMO_QUESTION, agent=agent, answers=ANSWERS, manager=RunManager(), display=False, transcript=False
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo_corpus_path(), tmp_path / "corpus")).resolve()


async def test_the_demo_report_has_every_citation_verified() -> None:
    report = await _report(LocalResearchAgent())
    check = report.citation_check
    assert check["citations"] > 10 and check["counts"]["verified"] == check["citations"]
    assert check["summary"].startswith(f"{check['citations']} citations: {check['citations']} verified, 0 weak")
    assert check["measure"] == "content-word recall"
    evidence = report.doc["evidence"]
    for marker in check["markers"]:
        source = evidence[str(marker["n"])]
        passage = source["passages"][marker["passage"]]
        assert source["kind"] == "local" and source["title"] and passage["found"] and passage["line"] >= 1
        line = (demo_corpus_path() / source["path"]).read_text(encoding="utf-8").splitlines()[passage["line"] - 1]
        assert passage["text"][:40] in " ".join(line.split())  # the passage starts on that line
    # the header line is in every fallback
    bundle = report._repr_mimebundle_()
    for mime in ("text/plain", "text/markdown", "text/html"):
        assert check["summary"] in bundle[mime].replace("&#x27;", "'")


async def test_an_invented_claim_citing_an_unsupporting_passage_is_weak() -> None:
    async with StubLLM(invent=INVENTED) as stub:
        agent = LocalResearchAgent(llm={"base_url": stub.base_url, "model": stub.model})
        report = await _report(agent)
    assert report.status == "COMPLETED" and INVENTED in report.markdown
    check = report.citation_check
    sections = len(stub.of_kind("local_section"))
    assert sections >= 1 and check["counts"]["weak"] == sections  # one invented claim per section
    assert check["counts"]["verified"] == check["citations"] - sections  # the restated evidence holds
    weak = [m for m in check["markers"] if m["status"] == "weak"]
    assert all(m["support"] < 0.5 for m in weak)
    plain = report._repr_mimebundle_()["text/plain"]
    assert f"{INVENTED} [{weak[0]['n']}?]." in plain  # marked in the text


async def test_a_source_file_edited_after_the_run_fails_its_citations(corpus: Path) -> None:
    report = await _report(LocalResearchAgent(corpus))
    assert report.citation_check["counts"]["verified"] == report.citation_check["citations"]
    first = report.doc["evidence"]["1"]
    edited = corpus / first["path"]
    text = edited.read_text(encoding="utf-8")
    for passage in first["passages"]:
        words = passage["text"].split()
        text = text.replace(words[-1].rstrip("."), "REDACTED")  # the quoted sentence no longer reads so
    edited.write_text(text, encoding="utf-8")
    again = report.check_citations()["citation_check"]
    failed = [m for m in again["markers"] if m["status"] == "missing_source"]
    cited_first = [m for m in again["markers"] if m["n"] == 1]
    assert failed == cited_first and failed
    assert again["counts"]["verified"] == again["citations"] - len(failed)
    assert f"{len(failed)} missing source" in again["summary"]
    (corpus / first["path"]).unlink()  # a deleted file fails too
    gone = report.check_citations()["citation_check"]
    assert [m for m in gone["markers"] if m["status"] == "missing_source"] == cited_first
    assert "no longer in the corpus" in report.check_citations()["evidence"]["1"]["problem"]


def _hostile_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / "hostile.json").read_text(encoding="utf-8"))
    passage = "<img src=x onerror=\"alert('passage')\"><script>alert('passage')</script>\" onmouseover=\"alert(3)"
    doc["schema_minor"] = 1
    doc["sources"][0]["url"] = "https://example.org/a"  # a linkable source, so its hover title is rendered
    doc["evidence"] = {
        "1": {
            "title": "<b onclick=alert(4)>t</b>",
            "url": "javascript:alert(5)",
            "kind": "web",
            "passages": [{"text": passage, "found": False}],
        },
    }
    doc["citation_check"] = {
        "citations": 2,
        "counts": {"verified": 0, "weak": 1, "missing_source": 1, "unverifiable": 0},
        "summary": "2 citations: 0 verified, 1 weak, <script>alert('summary')</script>",
        "markers": [{"n": 1, "status": "weak", "support": 0.1, "passage": 0}, {"n": 2, "status": "missing_source"}],
    }
    return doc


def test_a_hostile_passage_stays_inert_in_every_fallback() -> None:
    report = Report.from_document(_hostile_doc())
    for html in (report._repr_mimebundle_()["text/html"], report.to_html()):
        page = BeautifulSoup(html, "html.parser")
        assert not page.find_all(["img", "script", "iframe", "svg"])
        for tag in page.find_all(True):
            assert isinstance(tag, Tag)
            assert not [name for name in tag.attrs if name.lower().startswith("on")], tag.name
        hover = [a for a in page.find_all("a") if a.get_text() == "[1?]"]  # marked weak in the text
        assert hover and "<script>alert('passage')</script>" in str(hover[0].get("title"))  # shown as text
    markdown = report._repr_mimebundle_()["text/markdown"]
    rendered = BeautifulSoup(MarkdownIt("commonmark").render(markdown), "html.parser")
    assert not rendered.find_all(["img", "script"])


def test_old_reports_render_without_a_check() -> None:
    for name in ("completed.json", "cancelled_partial.json", "failed.json"):
        report = Report.load(DATA / name)
        assert report.citation_check == {}
        assert "citations:" not in report._repr_mimebundle_()["text/plain"]


async def test_a_report_that_names_only_its_references_is_checked_against_the_documents() -> None:
    """The SDK's reports carry a references list, not the sentences used: each reference that is a corpus
    document is read again and its best-supporting sentence becomes the passage; a web one is unverifiable."""
    doc = (await _report(LocalResearchAgent())).doc
    doc["citations"] = {}  # no citation records: only the sources list
    doc["agent"]["spec"] = {"kind": "openjiuwen-sdk", "config": {"search": "corpus", "corpus": None}}
    check = Report.from_document(doc).check_citations()
    counts = check["citation_check"]["counts"]
    assert counts["verified"] == check["citation_check"]["citations"]  # quoted sentences: found verbatim
    assert all(e["kind"] == "local" and e["passages"] for e in check["evidence"].values())
    doc["agent"]["spec"]["config"]["search"] = "tavily"  # searched the web: nothing to read again
    web = Report.from_document(doc).check_citations()["citation_check"]
    assert web["counts"]["unverifiable"] == web["citations"] and web["counts"]["verified"] == 0
    assert "unverifiable" in web["summary"]

"""The report's MIME bundle: readable fallbacks, working citation links, and nothing hostile left active."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from markdown_it import MarkdownIt

from deepsearch_nb import REPORT_MIME, RunState
from deepsearch_nb._report import report_bundle, report_document, report_html, report_markdown, report_plain
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import Hang, Raise, ScriptedAgent, clarification, outline_round, report_round, until_chunks

DATA = Path(__file__).parent.parent / "data" / "reports"
KEY = "sk-render-0123456789abcdefXYZ"
SOURCES = [("Tea in China", "https://example.org/tea?a=1&b=2"), ("Local notes", "docs/notes.md")]
SECTIONS = ["Tea began in China [citation:1].", "It travelled by sea [citation:2] and [citation:1, 2]."]
OUTLINE = {"title": "How tea spread", "sections": [{"title": "Origins", "description": "Where it began"}]}

# What a fallback may contain; anything else (script, iframe, form, svg, style beyond ours, ...) is a leak.
ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "section", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset"}


# --- building documents from real runs ------------------------------------------------------------


async def completed_doc(manager: RunManager) -> dict[str, Any]:
    agent = ScriptedAgent(clarification(), outline_round(OUTLINE), report_round(SECTIONS, sources=SOURCES))
    run = manager.start(agent, "How did tea spread?", agent_config={"llm_config": {"api_key": KEY}})
    await run.until_settled(timeout=5)
    run.submit("Asia and Europe")
    await run.until_settled(timeout=5)
    run.submit("accept")
    await run.wait(timeout=5)
    return report_document(run)


async def cancelled_doc(manager: RunManager) -> dict[str, Any]:
    chunks = report_round(SECTIONS, sources=SOURCES, accepted=False)[:-2]
    run = manager.start(ScriptedAgent([*chunks, Hang()]), "How did tea spread?")

    await until_chunks(run, len(chunks))
    run.cancel()
    await run.wait(timeout=5)
    return report_document(run)


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def permissive(markdown: str) -> str:
    """Render like the least careful Markdown viewer: raw HTML passed through, every URL accepted."""
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    rendered: str = md.render(markdown)
    return rendered


def assert_inert(html: str, *, own_style: bool) -> None:
    """No active element, no event handler, no script URL: what a browser would run or load."""
    if own_style:
        assert html.startswith("<style>") and html.count("<style") == 1, "only our own style block"
        html = html[html.index("</style>") + len("</style>") :]
    for tag in soup(html).find_all(True):
        assert isinstance(tag, Tag)
        assert tag.name in ALLOWED_TAGS, f"<{tag.name}> in the output"
        for name, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert not name.lower().startswith("on"), f"{tag.name}[{name}]"
            assert name.lower() not in ("srcdoc", "formaction", "action"), f"{tag.name}[{name}]"
            if name.lower() in URL_ATTRIBUTES:
                squeezed = re.sub(r"[\x00-\x20]", "", text).lower()
                assert not squeezed.startswith(("javascript:", "vbscript:", "data:")), f"{tag.name}[{name}={text}]"
            if name == "class" and own_style:  # our HTML: classes only where nh3 allows them
                assert tag.name in ("div", "span", "details", "section"), f"class on <{tag.name}>"
            if name == "style":
                assert tag.name in ("td", "th") and "url(" not in text, f"style on <{tag.name}>"


def links(html: str) -> dict[str, str]:
    """Link text -> href of every link in an HTML fragment (last wins)."""
    return {a.get_text(): str(a.get("href")) for a in soup(html).find_all("a")}


# --- the bundle -----------------------------------------------------------------------------------


async def test_bundle_has_the_document_and_three_fallbacks(manager: RunManager) -> None:
    doc = await completed_doc(manager)
    bundle = report_bundle(doc)
    assert set(bundle) == {REPORT_MIME, "text/markdown", "text/html", "text/plain"}
    assert bundle[REPORT_MIME] == doc and bundle[REPORT_MIME] is not doc
    for mime in ("text/markdown", "text/html", "text/plain"):
        assert isinstance(bundle[mime], str) and "Tea began in China" in bundle[mime], mime
    assert bundle["text/markdown"] == report_markdown(doc)
    assert bundle["text/html"] == report_html(doc)
    assert bundle["text/plain"] == report_plain(doc)


async def test_markdown_fallback_reads_as_a_document(manager: RunManager) -> None:
    doc = await completed_doc(manager)
    doc["timings"]["elapsed_s"] = 12.34
    md = report_markdown(doc)
    assert md.startswith("# How tea spread\n")
    assert "**Status:** COMPLETED · 12.3 s · 2 sources" in md
    assert "> How did tea spread?" in md
    assert "## Sources" in md and "## Questions and answers" in md and "## Run details" in md
    assert "Reference Articles" not in md  # shown once, as the Sources list
    assert "[citation:" not in md
    assert '"api_key": "***"' in md


async def test_citations_link_to_their_sources(manager: RunManager) -> None:
    doc = await completed_doc(manager)
    doc["sources"][1]["url"] = "docs/my notes (draft).md"  # a relative path with spaces still links
    tea, notes = "https://example.org/tea?a=1&b=2", "docs/my%20notes%20%28draft%29.md"
    rendered = MarkdownIt("commonmark").render(report_markdown(doc))
    found = [(a.get_text(), a.get("href")) for a in soup(rendered.split("Sources</h2>")[0]).find_all("a")]
    assert ("[1]", tea) in found and ("[2]", notes) in found
    assert found.count(("[1]", tea)) == 2  # "[citation:1]" and the "1" of "[citation:1, 2]"
    # The HTML fallback links a citation to its source's entry on the page, which opens the passage and
    # the document; a relative path there would resolve against the notebook's folder and 404 (issue 12).
    page = soup(report_html(doc))
    cited = [a.get("href") for a in page.select(".deepsearch-body a")]
    assert cited.count(cited[0]) == 2 and all(str(h).startswith("#") for h in cited)
    for href in cited:
        entry = page.find(id=str(href)[1:])
        assert entry is not None and entry.find_parent(class_="deepsearch-sources") is not None
    sources = page.select(".deepsearch-sources li")
    assert sources[1].find("a") is None  # the relative path is shown as text, not a dead link
    first = sources[0].find("a")
    assert first is not None and first["href"] == tea


async def test_citations_without_a_linkable_source_stay_plain(manager: RunManager) -> None:
    doc = await completed_doc(manager)
    doc["sources"][1]["url"] = "ftp://files.example.org/notes"
    doc["report_markdown"] += "\n\nUnknown [citation:9]. In code: `[citation:1]`."
    html = report_html(doc)
    assert links(html.split("Sources</h2>")[0])["[2]"].startswith("#")  # to its entry on the page
    assert "Unknown [9]." in soup(html).get_text()
    assert "<code>[citation:1]</code>" in html
    assert "Unknown \\[9\\]." in report_markdown(doc)
    assert "Unknown [9]." in report_plain(doc)


async def test_html_structure(manager: RunManager) -> None:
    doc = await completed_doc(manager)
    html = report_html(doc)
    assert_inert(html, own_style=True)
    page = soup(html)
    root = page.select_one("div.deepsearch-report")
    assert root is not None
    status = root.select_one("span.deepsearch-status")
    assert status is not None and status.get_text() == "COMPLETED"
    assert "deepsearch-status-completed" in (status.get("class") or [])
    sources = root.select("section.deepsearch-sources li")
    assert [li.get_text() for li in sources] == ["[1]Tea in China", "[2]Local notesdocs/notes.md"]  # a path: text
    assert [a.get("href") for a in root.select("section.deepsearch-sources a")] == [
        "https://example.org/tea?a=1&b=2",
    ]
    hitl = root.select_one("details.deepsearch-hitl summary")
    assert hitl is not None and hitl.get_text() == "Questions and answers (2)"
    run = root.select_one("details.deepsearch-run")
    assert run is not None and '"api_key": "***"' in run.get_text()
    for a in page.find_all("a"):
        assert a.get("rel") == ["noopener", "noreferrer"]
    assert "var(--jp-ui-font-color2, inherit)".replace(" ", "") in html.replace(" ", "")


async def test_plain_text_is_stable_and_has_no_times_or_ids(manager: RunManager) -> None:
    first, second = await completed_doc(manager), await completed_doc(manager)
    assert first["conversation_id"] != second["conversation_id"]
    plain = report_plain(first)
    assert plain == report_plain(second)
    assert first["conversation_id"] not in plain and first["timings"]["started_at"] not in plain
    assert not re.search(r"\d+\.\d s\b", plain)
    status = "COMPLETED · 2 sources · 4 citations: 0 verified, 0 weak, 0 missing source, 4 unverifiable"
    assert plain.startswith(f"How tea spread\nStatus: {status}\nQuestion: How did tea spread?\n")
    assert "Tea began in China [1]." in plain
    assert "[1] Tea in China - https://example.org/tea?a=1&b=2" in plain


async def test_cancelled_run_shows_its_partial_report(manager: RunManager) -> None:
    doc = await cancelled_doc(manager)
    md, html, plain = report_markdown(doc), report_html(doc), report_plain(doc)
    assert "**Cancelled:** The run was cancelled (cancelled by the user)." in md
    assert "CANCELLED" in md and "It travelled by sea" in md
    error = soup(html).select_one("div.deepsearch-error")
    assert error is not None and "cancelled by the user" in error.get_text()
    assert "It travelled by sea" in soup(html).get_text()
    assert "Cancelled: The run was cancelled" in plain and "It travelled by sea" in plain


async def test_waiting_run_shows_the_question(manager: RunManager) -> None:
    run = manager.start(ScriptedAgent(clarification("1. Which era?")), "Tea?")
    assert await run.until_settled(timeout=5) is RunState.WAITING_USER_INPUT
    doc = report_document(run)
    run.cancel()
    await run.wait(timeout=5)
    assert "Waiting for your answer (Clarification)" in report_markdown(doc)
    pending = soup(report_html(doc)).select_one("div.deepsearch-pending")
    assert pending is not None and "Which era?" in pending.get_text()
    assert "Waiting for your answer: 1. Which era?" in report_plain(doc)
    assert "No report was written" in report_markdown(doc)


async def test_failed_run_secrets_never_reach_any_mime_entry(manager: RunManager) -> None:
    config = {"llm_config": {"general": {"api_key": bytearray(KEY.encode())}}, "search": {"token": "tok-987654321"}}
    script = [*report_round([f"Echoed {KEY} here."], accepted=False)[:-2], Raise(RuntimeError(f"401 for {KEY}"))]
    run = manager.start(ScriptedAgent(script), f"Is {KEY} valid?", agent_config=config)
    await run.wait(timeout=5)
    bundle = report_bundle(report_document(run))
    assert bundle[REPORT_MIME]["status"] == "FAILED"
    for mime, data in bundle.items():
        text = data if isinstance(data, str) else json.dumps(data)
        assert KEY not in text and "tok-987654321" not in text, mime
    assert "**Error:** The agent failed: RuntimeError: 401 for \\*\\*\\*" in bundle["text/markdown"]


# --- report bodies the agent really writes ------------------------------------------------------------


def test_shared_fixture_reports_render_and_stay_inert() -> None:
    for name in ("completed", "cancelled_partial", "failed", "hostile"):
        doc = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
        bundle = report_bundle(doc)
        assert_inert(bundle["text/html"], own_style=True)
        assert_inert(permissive(bundle["text/markdown"]), own_style=False)
        assert bundle["text/plain"].strip()


def test_sdk_anchors_become_heading_ids_and_the_toc_works() -> None:
    doc = json.loads((DATA / "completed.json").read_text(encoding="utf-8"))
    html, md = report_html(doc), report_markdown(doc)
    assert 'id="chapter-1"' not in html and "&lt;a id" not in html and "<a id" not in md
    page = soup(html)
    toc = [a for a in page.find_all("a") if a.get_text() == "1. Origins of tea"]
    assert toc, "the table of contents link"
    target = str(toc[0].get("href"))
    assert target.startswith("#ds-") and target.endswith("-chapter-1")
    heading = page.find(id=target[1:])
    assert heading is not None and heading.name == "h2" and heading.get_text() == "1. Origins of tea"  # under the h1


def test_report_markdown_keeps_tables_code_and_plain_symbols() -> None:
    doc = json.loads((DATA / "completed.json").read_text(encoding="utf-8"))
    doc["report_markdown"] = (
        "Compare `a < b` and R&D and a && b.\n\n"
        "```html\n<b>bold</b> [citation:1]\n```\n\n"
        "See <https://example.org/x?y=1> for more.\n\n"
        "| A | B |\n|---|---|\n| 1 | 2 |\n"
    )
    md = report_markdown(doc)
    assert "Compare `a < b` and R&amp;D and a && b." in md  # "<" without a tag name needs no escape
    assert "Compare a < b and R&D and a && b." in soup(MarkdownIt("commonmark").render(md)).get_text()
    assert "```html\n<b>bold</b> [citation:1]\n```" in md  # top-level code is left verbatim
    html = report_html(doc)
    assert "<code>a &lt; b</code>" in html and "R&amp;D" in html
    assert "&lt;b&gt;bold&lt;/b&gt; [citation:1]" in html
    assert links(html)["https://example.org/x?y=1"] == "https://example.org/x?y=1"
    assert soup(html).select_one("div.deepsearch-body table td") is not None
    rendered = MarkdownIt("commonmark").render(md)
    assert links(rendered)["https://example.org/x?y=1"] == "https://example.org/x?y=1"


def test_an_unclosed_fence_does_not_swallow_the_sources() -> None:
    doc = json.loads((DATA / "completed.json").read_text(encoding="utf-8"))
    doc["report_markdown"] = "Intro.\n\n```\nnever closed <script>alert(1)</script>\n"
    for rendered in (permissive(report_markdown(doc)), report_html(doc)):
        assert soup(rendered).find("h2", string="Sources") is not None  # type: ignore[call-overload]


def test_odd_documents_still_render() -> None:
    bundle = report_bundle({"schema_version": 1, "sources": [{"index": "x"}, "junk", {"index": 2, "url": "u"}]})
    assert "Research report" in bundle["text/plain"] and "UNKNOWN" in bundle["text/plain"]
    assert "[2] u" in bundle["text/plain"]
    assert_inert(bundle["text/html"], own_style=True)
    doc = json.loads((DATA / "completed.json").read_text(encoding="utf-8"))
    doc["timings"]["elapsed_s"] = 125.4
    doc["question"] = "茶是怎么传播的？\r\nSecond line"
    md = report_markdown(doc)
    assert "2 min 5 s" in md and "> 茶是怎么传播的？\n> Second line" in md


# --- hostile content anywhere ---------------------------------------------------------------------

VECTORS = {
    "script": "<script>alert('x')</script>",
    "img_onerror": '<img src=x onerror="alert(1)">',
    "iframe": '<iframe src="javascript:alert(1)" srcdoc="<script>alert(1)</script>"></iframe>',
    "svg_onload": '<svg onload="alert(1)"><circle r="5"/></svg>',
    "details_ontoggle": '<details open ontoggle="alert(1)">t</details>',
    "style": "<style>body{display:none}</style>",
    "form": '<form action="javascript:alert(1)"><button formaction="javascript:alert(2)">go</button></form>',
    "html_js_link": "<a href=\"javascript:alert('a')\">click</a>",
    "md_js_link": "[click](javascript:alert(1))",
    "md_js_link_spaced": "[click](  JaVaScRiPt:alert(1))",
    "md_js_entity": "[click](jav&#x09;ascript:alert(1))",
    "md_js_numeric_colon": "[click](javascript&#58;alert(1))",
    "md_js_escaped_colon": "[click](javascript\\:alert(1))",
    "md_js_reference": "[click][r]\n\n[r]: javascript:alert(1)",
    # Issue 9, finding 10: reference definitions nested in list and quote containers.
    "md_ref_list_quote": "[click][r]\n\n- > [r]: javascript:alert(1)",
    "md_ref_ordered_list": "[click][r]\n\n1. - [r]: javascript:alert(1)",
    "md_ref_quote_ordered_quote": "[click][r]\n\n> 1. > [r]: javascript:alert(1)",
    "md_ref_list_list": "[click][r]\n\n- - [r]: javascript:alert(1)",
    "md_ref_deep_next_line": "[click][r]\n\n> - 1) + > [r]:\n>   JaVaScRiPt:alert(1)",
    "md_ref_escaped_label": "[a\\]b]\n\n* > [a\\]b]: vbscript:msgbox(1)",
    "md_ref_list_continuation": "[click][r]\n\n- item\n\n  > [r]: javascript:alert(1)",
    "md_data_link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "md_data_image": "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "md_vbscript": "[click](vbscript:msgbox(1))",
    "autolink_js": "<javascript:alert(1)>",
    "email_autolink_trick": "<img/src/onerror=alert`1`//@x.y>",
    "comment": "<!-- --><script>alert(1)</script><!-- -->",
    "fence_breakout": "```\n</code></pre><script>alert(1)</script>",
    "quote_breakout": '"><img src=x onerror=alert(1)>',
    "math_mxss": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext>",
}


def _set(path: str) -> Callable[[dict[str, Any], str], None]:
    def apply(doc: dict[str, Any], value: str) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _append_report(doc: dict[str, Any], value: str) -> None:
    doc["report_markdown"] = f"{value}\n\n{doc['report_markdown']}\n\n{value} [citation:1]\n"


def _pending(doc: dict[str, Any], value: str) -> None:
    doc["status"] = "WAITING_USER_INPUT"
    doc["pending"] = {"stage": "outline_review", "prompt": value, "questions": value, "outline": {"title": value}}


FIELDS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "question": _set("question"),
    "title": _set("title"),
    "error": _set("error"),
    "status": _set("status"),
    "report": _append_report,
    "source_title": _set("sources.0.title"),
    "source_url": _set("sources.0.url"),
    "source_query": _set("sources.1.query"),
    "hitl_prompt": _set("hitl.0.prompt"),
    "hitl_questions": _set("hitl.0.questions"),
    "hitl_message": _set("hitl.0.message"),
    "hitl_feedback": _set("hitl.0.feedback"),
    "hitl_stage": _set("hitl.1.stage"),
    "outline_title": _set("hitl.1.outline.title"),
    "outline_section": _set("hitl.1.outline.sections.0.description"),
    "pending": _pending,
    "config": _set("agent.config.note"),
    "agent_kind": _set("agent.kind"),
    "started_at": _set("timings.started_at"),
    "conversation_id": _set("conversation_id"),
    "package_version": _set("package_version"),
}


@pytest.fixture(scope="module")
def base_doc() -> dict[str, Any]:
    """A small document with every part filled in (the matrix below renders it about 500 times)."""
    doc: dict[str, Any] = json.loads((DATA / "cancelled_partial.json").read_text(encoding="utf-8"))
    doc["sources"][1]["query"] = "prototype cells"
    doc["hitl"] = [
        {"stage": "clarification", "prompt": "Answer:", "questions": "1. Which era?", "outline": None,
         "feedback": "accepted", "message": "Any era."},
        doc["hitl"][0],
    ]  # fmt: skip
    return doc


@pytest.mark.parametrize("vector", sorted(VECTORS))
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_hostile_input_is_inert_in_html_and_markdown(base_doc: dict[str, Any], field: str, vector: str) -> None:
    doc = copy.deepcopy(base_doc)
    FIELDS[field](doc, VECTORS[vector])
    bundle = report_bundle(doc)
    assert_inert(bundle["text/html"], own_style=True)
    assert_inert(permissive(bundle["text/markdown"]), own_style=False)


async def test_hostile_run_end_to_end_shows_the_text_literally(manager: RunManager) -> None:
    payload = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    sources = [(f"Evil {payload}", "javascript:alert('src')"), ("Fine", "https://example.org/")]
    outline = {"title": f"Outline {payload}", "sections": [{"title": payload, "description": payload}]}
    sections = [f"{payload} [citation:1] [citation:2] [x](javascript:alert(1))"]
    agent = ScriptedAgent(clarification(payload), outline_round(outline), report_round(sections, sources=sources))
    run = manager.start(agent, f"Question {payload}", agent_config={"note": payload})
    await run.until_settled(timeout=5)
    run.submit(payload)
    await run.until_settled(timeout=5)
    run.submit("accept")
    await run.wait(timeout=5)
    bundle = report_bundle(report_document(run))
    html = bundle["text/html"]
    assert_inert(html, own_style=True)
    assert_inert(permissive(bundle["text/markdown"]), own_style=False)
    text = soup(html).get_text()
    assert f"Question {payload}" in text and f"Evil {payload}" in text  # shown, as text
    assert links(html.split("Sources</h2>")[0]).get("[2]", "").endswith("-source-2")  # to its entry
    assert links(html.split("Sources</h2>")[0])["[1]"].endswith("-source-1")  # in the page, never javascript:
    assert "javascript" not in " ".join(str(a.get("href")) for a in soup(html).find_all("a"))
    rendered = permissive(bundle["text/markdown"])
    assert f"Question {payload}" in soup(rendered).get_text()


def test_markdown_fallback_keeps_remote_images_as_links_not_images() -> None:
    from markdown_it import MarkdownIt

    from deepsearch_nb._report import report_markdown

    doc = json.loads((Path(__file__).parents[1] / "data" / "reports" / "completed.json").read_text())
    doc["report_markdown"] = "Pixel ![tracker](https://evil.example/p.gif) here."
    rendered = MarkdownIt("commonmark").render(report_markdown(doc))
    assert "<img" not in rendered
    assert '<a href="https://evil.example/p.gif">tracker</a>' in rendered


NESTED_REFERENCES = [
    "- > [r]: javascript:alert(1)",
    "1. - [r]: javascript:alert(1)",
    "> 1. > [r]: javascript:alert(1)",
    "- - [r]: javascript:alert(1)",
    "* 2) > - [r]:\n      javascript:alert(1)",
    "> > > - + [r]: data:text/html,<script>alert(1)</script>",
]


@pytest.mark.parametrize("definition", NESTED_REFERENCES)
def test_finding10_nested_reference_definitions_are_defanged_in_every_fallback_and_the_saved_md(
    definition: str, tmp_path: Path
) -> None:
    from deepsearch_nb import Report

    doc = json.loads((DATA / "completed.json").read_text(encoding="utf-8"))
    doc["report_markdown"] += f"\n\nSee [the link][r].\n\n{definition}\n"
    for where in ("report_markdown", "hitl.0.message", "hitl.0.questions"):
        changed = copy.deepcopy(doc)
        if where != "report_markdown":
            _set(where)(changed, f"See [the link][r].\n\n{definition}")
        report = Report.from_document(changed)
        bundle = report._repr_mimebundle_()
        saved = report.save(tmp_path / "r.md").read_text(encoding="utf-8")
        for text in (bundle["text/markdown"], saved):
            rendered = permissive(text)
            assert_inert(rendered, own_style=False)
            assert "the link" in soup(rendered).get_text()  # the text stays, only the link is dead
        assert_inert(bundle["text/html"], own_style=True)


def test_finding10_safe_nested_reference_links_still_work() -> None:
    doc = json.loads((DATA / "completed.json").read_text(encoding="utf-8"))
    doc["report_markdown"] += "\n\nSee [the link][r].\n\n- > [r]: https://example.org/ok\n"
    assert links(permissive(report_markdown(doc))).get("the link") == "https://example.org/ok"


def test_finding10_a_script_link_the_pattern_misses_is_still_caught_by_the_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deepsearch_nb._report import _render_markdown

    monkeypatch.setattr(_render_markdown, "_LINK_TARGET", re.compile(r"(?!)(?P<pre>)(?P<scheme>)"))
    doc = json.loads((DATA / "completed.json").read_text(encoding="utf-8"))
    doc["report_markdown"] += (
        "\n\nSee [the link][r] and [inline](javascript:alert(2)).\n\n- - [r]: javascript:alert(1)\n"
    )
    rendered = permissive(report_markdown(doc))
    assert_inert(rendered, own_style=False)
    assert "the link" in soup(rendered).get_text()

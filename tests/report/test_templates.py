"""Report templates (issue 17) from the notebook side: resolving a name, a file or text (and the errors
that name where they looked), the local agent's report following the template, the report and the
transcript recording it, ``reproduce()`` running with the same one, and the panel saying which it is."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import deepsearch_nb
from deepsearch_nb import DEMO_QUESTION, ConfigurationError, Report
from deepsearch_nb.agents import ReportTemplate, TemplateError, resolve_template
from deepsearch_nb.runtime import RunManager

ANSWERS = ["Focus on costs and fire safety.", "accept"]
HOUSE = """# Storage Decision Memo

## Cost Picture
What it costs to build and run.

## Safety Record
Fires and what prevents them.

## Open Questions
What the documents do not settle.
"""


@pytest.fixture
def manager() -> RunManager:
    return RunManager()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A notebook folder as the working directory, with no template folder configured."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEEPSEARCH_NB_TEMPLATES", raising=False)
    return tmp_path


def section_headings(markdown: str) -> list[str]:
    """The numbered section headings of a local report, without their numbers, in order."""
    return [m.group(1) for m in re.finditer(r"^# \d+\. (.+)$", markdown, re.MULTILINE)]


# --- resolving ---------------------------------------------------------------------------------------


def test_shipped_templates_resolve_by_name(folder: Path) -> None:
    brief = resolve_template("policy-brief")
    assert brief.source == "shipped" and brief.sections == [
        "Summary",
        "Background",
        "Options",
        "Recommendation",
        "Implementation",
    ]
    assessment = resolve_template("technology-assessment")
    assert assessment.sections[0] == "Overview" and len(assessment.sha256) == 64
    assert brief.sha256 != assessment.sha256


def test_a_name_is_looked_up_in_templates_next_to_the_notebook_then_the_configured_folders(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "templates").mkdir()
    (folder / "templates" / "house.md").write_text(HOUSE, encoding="utf-8")
    found = resolve_template("house")
    assert found.name == "house" and found.markdown == HOUSE and found.source.endswith("house.md")
    team = tmp_path / "team-templates"
    team.mkdir()
    (team / "house.md").write_text("# Team\n\n## Only section\n", encoding="utf-8")
    monkeypatch.setenv("DEEPSEARCH_NB_TEMPLATES", str(team))
    assert resolve_template("house").sections == ["Only section"]  # the configured folder comes first


def test_a_path_and_markdown_text_are_templates_too(folder: Path) -> None:
    path = folder / "memo.md"
    path.write_text(HOUSE, encoding="utf-8")
    assert resolve_template(path).name == "memo" and resolve_template(str(path)).markdown == HOUSE
    text = resolve_template(HOUSE)
    assert text.name == "Storage Decision Memo" and text.sections == ["Cost Picture", "Safety Record", "Open Questions"]


def test_a_missing_template_file_names_the_path(folder: Path) -> None:
    with pytest.raises(TemplateError, match="does not exist") as raised:
        resolve_template("reports/missing-template.md")
    assert str(folder / "reports" / "missing-template.md") in str(raised.value)
    assert isinstance(raised.value, ConfigurationError)


def test_a_bare_file_name_is_a_file_here_or_else_a_template_name(folder: Path) -> None:
    assert resolve_template("policy-brief.md").source == "shipped"
    (folder / "policy-brief.md").write_text(HOUSE, encoding="utf-8")
    assert resolve_template("policy-brief.md").markdown == HOUSE  # the file beside the notebook first
    with pytest.raises(TemplateError) as raised:
        resolve_template("memo.md")
    assert str(folder / "memo.md") in str(raised.value) and str(folder / "templates" / "memo.md") in str(raised.value)


def test_an_unknown_name_names_every_place_it_looked_and_what_exists(folder: Path) -> None:
    with pytest.raises(TemplateError) as raised:
        resolve_template("no-such-template")
    message = str(raised.value)
    assert str(folder / "templates" / "no-such-template.md") in message
    assert "data/templates/no-such-template.md" in message  # the shipped folder
    assert "policy-brief" in message and "technology-assessment" in message


@pytest.mark.parametrize("content", ["", "  \n\n "])
def test_an_empty_template_is_refused(folder: Path, content: str) -> None:
    path = folder / "empty.md"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TemplateError, match=r"empty\.md is empty"):
        resolve_template(path)
    with pytest.raises(TemplateError, match="empty"):
        resolve_template("")


async def test_research_refuses_a_missing_template_before_starting(folder: Path, manager: RunManager) -> None:
    with pytest.raises(TemplateError, match=re.escape(str(folder / "nope.md"))):
        deepsearch_nb.research(DEMO_QUESTION, template="nope.md", manager=manager, display=False)
    assert manager.stats().is_idle and manager.runs() == []


# --- running with one --------------------------------------------------------------------------------


async def test_the_local_report_follows_the_templates_sections_in_order(folder: Path, manager: RunManager) -> None:
    report = await deepsearch_nb.research(
        DEMO_QUESTION, template=HOUSE, answers=ANSWERS, manager=manager, display=False, transcript=False
    )
    assert report.status == "COMPLETED", report.error
    assert report.markdown.startswith("# Storage Decision Memo")
    assert section_headings(report.markdown) == ["Cost Picture", "Safety Record", "Open Questions"]
    outline = next(e for e in report.doc["hitl"] if e["stage"] == "outline_review")["outline"]
    assert [s["title"] for s in outline["sections"]] == ["Cost Picture", "Safety Record", "Open Questions"]


async def test_a_template_without_headings_is_said_to_give_no_sections(folder: Path, manager: RunManager) -> None:
    prose = "Write for a board.\nShort paragraphs, no jargon, a recommendation first.\n"
    report = await deepsearch_nb.research(
        DEMO_QUESTION, template=prose, answers=ANSWERS, manager=manager, display=False, transcript=False
    )
    assert report.status == "COMPLETED", report.error
    outline = next(e for e in report.doc["hitl"] if e["stage"] == "outline_review")["outline"]
    assert "template has no Markdown headings" in outline["thought"]
    assert section_headings(report.markdown)  # the drafted outline's sections, not none


async def test_the_report_and_its_transcript_record_the_template(folder: Path, manager: RunManager) -> None:
    transcript = folder / "run.jsonl"
    report = await deepsearch_nb.research(
        DEMO_QUESTION,
        template="policy-brief",
        answers=ANSWERS,
        manager=manager,
        display=False,
        transcript=transcript,
    )
    brief = resolve_template("policy-brief")
    assert report.doc["template"] == {
        "name": "policy-brief",
        "sha256": brief.sha256,
        "source": "shipped",
        "markdown": brief.markdown,
    }
    assert section_headings(report.markdown) == brief.sections
    header = json.loads(transcript.read_text(encoding="utf-8").splitlines()[0])
    assert header["template"]["name"] == "policy-brief" and header["template"]["sha256"] == brief.sha256
    saved = Report.load(report.save(folder / "report.json"))
    assert saved.doc["template"]["sha256"] == brief.sha256  # the schema keeps it


async def test_reproduce_of_a_templated_report_is_identical(
    folder: Path, manager: RunManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "templates").mkdir()
    (folder / "templates" / "house.md").write_text(HOUSE, encoding="utf-8")
    original = await deepsearch_nb.research(
        DEMO_QUESTION, template="house", answers=ANSWERS, manager=manager, display=False, transcript=False
    )
    saved = original.save(folder / "report.json")
    (folder / "templates" / "house.md").unlink()  # the report carries its template: no file needed
    handle = deepsearch_nb.reproduce(saved, manager=manager, display=False, transcript=False)
    again = await handle
    assert handle.comparison is not None and handle.comparison.identical, str(handle.comparison)
    assert again.markdown == original.markdown
    assert again.doc["template"]["sha256"] == original.doc["template"]["sha256"]
    assert section_headings(again.markdown) == ["Cost Picture", "Safety Record", "Open Questions"]


async def test_reproduce_refuses_a_template_whose_content_no_longer_matches_its_hash(
    folder: Path, manager: RunManager
) -> None:
    original = await deepsearch_nb.research(
        DEMO_QUESTION, template=HOUSE, answers=ANSWERS, manager=manager, display=False, transcript=False
    )
    doc = json.loads(json.dumps(original.doc))
    doc["template"]["markdown"] += "\n## A section added by hand\n"
    with pytest.raises(TemplateError, match="does not match its recorded sha256"):
        deepsearch_nb.reproduce(doc, manager=manager, display=False, transcript=False)


def test_research_sync_takes_a_template(folder: Path) -> None:
    report = deepsearch_nb.research_sync(
        DEMO_QUESTION, template="technology-assessment", answers=ANSWERS, display=False, transcript=False
    )
    assert report.status == "COMPLETED", report.error
    assert section_headings(report.markdown) == resolve_template("technology-assessment").sections


def test_a_template_record_round_trips() -> None:
    template = ReportTemplate.from_text(HOUSE)
    again = ReportTemplate.from_record(template.record())
    assert again.markdown == template.markdown and again.sha256 == template.sha256 and again.name == template.name

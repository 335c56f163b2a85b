"""Issue 12, finding 2: a clarification answer steers the local agent (filters and emphasis, never section
titles), the report says what the corpus could not meet, and a comparison question gets comparing sections."""

from __future__ import annotations

import re

import pytest

import deepsearch_nb
from deepsearch_nb import LocalResearchAgent, Report

QUESTION = "How do grid-scale batteries compare with other ways of storing electricity?"
ANSWER = "Europe and North America, 2015 to 2025, for a utility planner"  # the issue's exact answer


async def _report(question: str, answer: str) -> Report:
    report = await deepsearch_nb.research(
        question, agent=LocalResearchAgent(), answers=[answer, "accept"], display=False
    )
    assert report.status == "COMPLETED", report.error
    return report


def _sections(report: Report) -> list[str]:
    return re.findall(r"^# \d+\. (.+)$", report.markdown, flags=re.MULTILINE)


async def test_the_issues_answer_becomes_scope_not_sections() -> None:
    report = await _report(QUESTION, ANSWER)
    sections = _sections(report)
    assert sections, report.markdown[:2000]
    phrases = ["Europe", "North America", "2015", "2025", "utility planner", "For a utility planner"]
    named = [s for s in sections if any(p.lower() in s.lower() for p in phrases)]
    assert not named, f"sections named after a phrase of the answer: {named}"
    # The region is not dropped: the title and the abstract say it, and no source is about China only.
    assert "Europe and North America" in report.title
    abstract = report.markdown.split("# Abstract", 1)[1].split("\n# ", 1)[0]
    assert "Europe in " in abstract and "North America in " in abstract
    assert "utility planner" in abstract
    titles = [s.title for s in report.sources]
    assert not any("China" in t for t in titles), titles
    assert any("European Union" in t for t in titles), titles  # the corpus's European document is used


async def test_an_answer_in_chinese_steers_an_english_corpus() -> None:
    """The same answer as the issue's, in Chinese: the regions and the period still filter the evidence of
    the English demo corpus, and the title and abstract say them."""
    report = await _report(QUESTION, "欧洲和北美，2015年到2025年，面向电网规划人员")
    assert "Europe and North America" in report.title
    abstract = report.markdown.split("# Abstract", 1)[1].split("\n# ", 1)[0]
    assert "Europe in " in abstract and "North America in " in abstract
    assert not any("China" in s.title for s in report.sources)
    assert not [s for s in _sections(report) if re.search(r"[\u4e00-\u9fff]", s)]  # no section named after it


async def test_a_comparison_question_gets_comparing_sections() -> None:
    report = await _report(QUESTION, ANSWER)
    sections = _sections(report)
    assert len(sections) >= 3
    assert all("compare" in s or "versus" in s for s in sections), sections
    assert report.title.startswith("Grid-scale batteries compared with other ways of storing electricity")
    # Each comparing section draws on both sides: batteries and at least one alternative.
    assert "pumped hydro" in report.markdown.lower()


async def test_a_constraint_the_corpus_cannot_meet_is_said() -> None:
    report = await _report(deepsearch_nb.DEMO_QUESTION, "Africa, since 2020, for investors")
    abstract = report.markdown.split("# Abstract", 1)[1].split("\n# ", 1)[0]
    assert "No document in the corpus covers Africa" in abstract
    assert "Written for investors" in abstract
    assert not any("Africa" in s or "investor" in s.lower() for s in _sections(report))


@pytest.mark.parametrize(
    ("answer", "regions", "period", "audience", "rest"),
    [
        (ANSWER, ("Europe", "North America"), (2015, 2025), "a utility planner", ""),
        ("recycling in Japan", ("Japan",), None, "", "recycling"),
        ("costs and fire safety, the US since 2018", ("United States",), (2018, 9999), "", "costs and fire safety"),
        # Answers in the analyst's own language (the region list was English-only).
        ("欧洲和北美，2015年到2025年，面向电网规划人员", ("Europe", "North America"), (2015, 2025), "电网规划人员", ""),
        ("日本的电池回收", ("Japan",), None, "", "电池回收"),
        ("2018年以来的美国市场", ("United States",), (2018, 9999), "", "市场"),
        ("Europa und Nordamerika, seit 2018", ("Europe", "North America"), (2018, 9999), "", ""),
        ("de 2015 à 2025 en Europe", ("Europe",), (2015, 2025), "", ""),
    ],
)
def test_the_scope_of_an_answer(
    answer: str, regions: tuple[str, ...], period: tuple[int, int] | None, audience: str, rest: str
) -> None:
    from deepsearch_nb._agents._local._scope import parse_scope

    scope = parse_scope(answer)
    assert (scope.regions, scope.period, scope.audience, scope.rest) == (regions, period, audience, rest)

"""HITL requests and answers, the final result's sources, and folding a stream into progress."""

from __future__ import annotations

import json

import pytest

from deepsearch_nb import InvalidInputError
from deepsearch_nb.agents import (
    Chunk,
    FinalResult,
    HitlAnswer,
    HitlStage,
    InterruptFeedback,
    Outline,
    ResearchProgress,
    parse_chunk,
)
from deepsearch_nb.testing import clarification, outline_round, report_round

OUTLINE = {"title": "T", "sections": [{"title": "A"}, {"title": "B"}]}


def feed(progress: ResearchProgress, chunks: list[dict[str, object]]) -> list[object]:
    requests = []
    for raw in chunks:
        parsed = parse_chunk(raw)
        assert isinstance(parsed, Chunk)
        requests.append(progress.feed(parsed).request)
    return [r for r in requests if r is not None]


def test_progress_builds_hitl_requests_with_what_preceded_them() -> None:
    progress = ResearchProgress()
    (question,) = feed(progress, clarification("1. Which region?"))
    assert question.stage is HitlStage.CLARIFICATION  # type: ignore[attr-defined]
    assert question.questions.strip() == "1. Which region?"  # type: ignore[attr-defined]
    (review,) = feed(progress, outline_round(OUTLINE, round_no=2))
    assert review.stage is HitlStage.OUTLINE_REVIEW  # type: ignore[attr-defined]
    assert review.round == 2 and review.outline.title == "T"  # type: ignore[attr-defined]
    assert progress.sections_total == 2


def test_progress_follows_sections_sources_and_the_result() -> None:
    progress = ResearchProgress()
    feed(progress, report_round(["one [citation:1]", "two"], sources=[("Doc", "docs/a.md"), ("Doc", "docs/a.md")]))
    assert [s.url for s in progress.sources] == ["docs/a.md"]  # deduplicated by url
    assert progress.sections_done == {"1", "2"}
    assert progress.section_text["1"].strip() == "one [citation:1]"
    assert progress.all_end and progress.error is None
    assert progress.final_result is not None
    assert progress.report_markdown().startswith("# Report")


def test_a_partial_report_is_the_sections_written_so_far_in_order() -> None:
    progress = ResearchProgress()
    for idx, text in (("10", "ten"), ("2", "two")):
        chunk = Chunk(agent="sub_reporter", event="message", content=text, section_idx=idx)
        progress.feed(chunk)
    assert progress.report_markdown() == "two\n\nten"


def test_reference_articles_become_sources() -> None:
    result = FinalResult(
        response_content="x [citation:2]\n\n# Reference Articles\n\n[1] [A](http://a)\n\n[2] [B](docs/b.md)\n"
    )
    assert [(s.index, s.title, s.url) for s in result.sources()] == [(1, "A", "http://a"), (2, "B", "docs/b.md")]
    assert FinalResult(response_content="no list").sources() == []
    odd = FinalResult(response_content="# Reference Articles\n[1] [A](my docs/a (draft).md)\n[2] [B](<docs/b c.md>)\n")
    assert [s.url for s in odd.sources()] == ["my docs/a (draft).md", "docs/b c.md"]


@pytest.mark.parametrize(
    ("value", "stage", "feedback", "message"),
    [
        ("accept", None, InterruptFeedback.ACCEPTED, ""),
        ("Accepted", HitlStage.OUTLINE_REVIEW, InterruptFeedback.ACCEPTED, ""),
        ("cancel", None, InterruptFeedback.CANCEL, ""),
        ("revise: add costs", None, InterruptFeedback.REVISE_COMMENT, "add costs"),
        (
            "add a section on costs",
            HitlStage.OUTLINE_REVIEW,
            InterruptFeedback.REVISE_COMMENT,
            "add a section on costs",
        ),
        ("Europe", HitlStage.CLARIFICATION, InterruptFeedback.ACCEPTED, "Europe"),
        ("", HitlStage.CLARIFICATION, InterruptFeedback.ACCEPTED, ""),
        ({"feedback": "accepted", "message": "m"}, None, InterruptFeedback.ACCEPTED, "m"),
    ],
)
def test_scripted_answers_are_read_by_stage(
    value: str | dict[str, str], stage: HitlStage | None, feedback: InterruptFeedback, message: str
) -> None:
    answer = HitlAnswer.coerce(value, stage)
    assert (answer.feedback, answer.message) == (feedback, message)


def test_an_outline_json_answer_replaces_the_outline() -> None:
    answer = HitlAnswer.coerce(json.dumps(OUTLINE))
    assert answer.feedback is InterruptFeedback.REVISE_OUTLINE
    assert Outline.model_validate_json(answer.message).sections[1].title == "B"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: HitlAnswer.revise("  "), "needs a comment"),
        (lambda: HitlAnswer.replace_outline('{"title": "x", "sections": []}'), "sections"),
        (lambda: HitlAnswer.replace_outline("{nope"), "Invalid JSON"),
        (lambda: HitlAnswer.coerce(3), "string or a dict"),  # type: ignore[arg-type]
        (lambda: HitlAnswer.coerce({"feedback": "maybe"}), "Not a HITL answer"),
    ],
)
def test_bad_answers_say_what_to_fix(call: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        call()  # type: ignore[operator]


def test_errors_of_other_producers_are_kept_as_notices() -> None:
    progress = ResearchProgress()
    content = json.dumps({"exception_info": "The outline has no sections."})
    progress.feed(Chunk(agent="outline_interaction", event="error", content=content))
    assert progress.notices == ["The outline has no sections."]
    assert progress.error is None  # the run goes on: the same question is asked again

"""Issue 9, finding 11 (part): an outline typed as broken JSON is refused, never taken as "accept"."""

from __future__ import annotations

import pytest

from deepsearch_nb import InvalidInputError
from deepsearch_nb.agents import HitlAnswer, HitlStage, InterruptFeedback

BROKEN = '{"title":"Mine","sections":[{"title":"A"},]}'


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (BROKEN, "line 1, column 43 (character 42)"),
        ('  {"title": "Mine",\n  "sections": [}', "line 2, column 16"),
        ('[{"title": "A"}', "line 1, column 16"),
    ],
)
def test_finding11_broken_outline_json_at_outline_review_names_the_error_and_position(text: str, where: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        HitlAnswer.coerce(text, HitlStage.OUTLINE_REVIEW)
    message = str(caught.value)
    assert "not valid JSON" in message and where in message and "revise:" in message


def test_finding11_valid_outline_json_still_replaces_the_outline() -> None:
    answer = HitlAnswer.coerce('{"title":"Mine","sections":[{"title":"A"}]}', HitlStage.OUTLINE_REVIEW)
    assert answer.feedback is InterruptFeedback.REVISE_OUTLINE and '"Mine"' in answer.message


def test_finding11_a_json_array_is_not_an_outline() -> None:
    with pytest.raises(InvalidInputError, match="The outline is not valid"):
        HitlAnswer.coerce('[{"title": "A"}]', HitlStage.OUTLINE_REVIEW)


def test_finding11_prose_and_explicit_comments_at_outline_review_are_still_comments() -> None:
    assert HitlAnswer.coerce("add costs", HitlStage.OUTLINE_REVIEW).feedback is InterruptFeedback.REVISE_COMMENT
    revised = HitlAnswer.coerce("revise: [optional] add costs", HitlStage.OUTLINE_REVIEW)
    assert revised.feedback is InterruptFeedback.REVISE_COMMENT and revised.message == "[optional] add costs"


def test_finding11_braces_in_a_clarification_answer_are_just_text() -> None:
    answer = HitlAnswer.coerce("{Europe, Asia", HitlStage.CLARIFICATION)
    assert answer.feedback is InterruptFeedback.ACCEPTED and answer.message == "{Europe, Asia"

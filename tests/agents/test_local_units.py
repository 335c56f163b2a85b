"""Unit tests of the local agent's building blocks: text, settings, focus, revisions, tokens, index."""

from __future__ import annotations

import pytest

from deepsearch_nb import ConfigurationError
from deepsearch_nb._agents._local._clarify import BROAD_TERM_LIMIT, is_broad
from deepsearch_nb._agents._local._config import LocalSettings, parse_settings
from deepsearch_nb._agents._local._corpus import load_corpus
from deepsearch_nb._agents._local._emit import Emitter, split_tokens
from deepsearch_nb._agents._local._focus import Focus
from deepsearch_nb._agents._local._index import CorpusIndex
from deepsearch_nb._agents._local._outline import OutlineDraft, SectionDraft
from deepsearch_nb._agents._local._revise import apply_comment
from deepsearch_nb._agents._local._text import content_terms, split_sentences, stem, tokenize
from deepsearch_nb.agents import DEMO_ANSWERS, DEMO_QUESTION, HitlAnswer, InterruptFeedback


def test_sentences_keep_their_exact_text() -> None:
    text = "Prices fell 20 percent in 2024. Costs rose, e.g. for grid links. A 1.5 MW pilot ran!\nIt worked?"
    assert split_sentences(text) == [
        "Prices fell 20 percent in 2024.",
        "Costs rose, e.g. for grid links.",
        "A 1.5 MW pilot ran!",
        "It worked?",
    ]
    assert split_sentences("   ") == []


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [("costs", "cost"), ("batteries", "battery"), ("policies", "policy"), ("process", "process"),
     ("status", "status"), ("analysis", "analysis"), ("gas", "gas"), ("boxes", "box")],
)  # fmt: skip
def test_plural_stemming(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_tokens_drop_stopwords_and_fold_plurals() -> None:
    assert tokenize("What should I know about the costs of batteries?") == ["cost", "battery"]
    assert content_terms("cost costs COST") == ["cost"]


def test_settings_defaults_and_overrides() -> None:
    assert parse_settings(None, 0.0) == LocalSettings()
    settings = parse_settings(
        {"workflow_human_in_the_loop": False, "outliner_max_section_num": 15, "local_pacing_s": 0.5}, 0.1
    )
    assert settings == LocalSettings(human_in_the_loop=False, max_sections=15, pacing=0.5)
    assert parse_settings({}, 0.25).pacing == 0.25
    with pytest.raises(ConfigurationError, match="agent_config must be a dict"):
        parse_settings(["not", "a", "dict"], 0.0)


def test_focus_reads_aspects_and_exclusions() -> None:
    focus = Focus("battery storage", "Focus on costs, fire safety and recycling for a US utility, but not policy")
    assert focus.aspects() == ("costs", "fire safety", "recycling")
    assert focus.excluded == ("policy",)
    weights = focus.weights()
    assert weights["cost"] == 2.0 and weights["battery"] == 1.0 and "policy" not in weights
    assert Focus("q").aspects() == () and Focus("q").excluded == ()


def test_demo_question_is_broad_and_demo_answers_script_the_session() -> None:
    index = CorpusIndex(load_corpus(None))
    assert is_broad(DEMO_QUESTION, index)
    assert len(content_terms(DEMO_QUESTION)) < BROAD_TERM_LIMIT
    answers = [HitlAnswer.coerce(a) for a in DEMO_ANSWERS]
    assert [a.feedback for a in answers] == [
        InterruptFeedback.ACCEPTED,
        InterruptFeedback.REVISE_COMMENT,
        InterruptFeedback.ACCEPTED,
    ]
    assert answers[0].message and answers[2].message == ""


@pytest.fixture(scope="module")
def index() -> CorpusIndex:
    return CorpusIndex(load_corpus(None))


def _outline(*titles: str) -> OutlineDraft:
    return OutlineDraft("T", tuple(SectionDraft(t, f"About {t.lower()}.") for t in titles))


@pytest.mark.parametrize(
    ("comment", "titles"),
    [
        ("drop section 2", ["Costs", "Recycling"]),
        ("remove section #3", ["Costs", "Fire safety"]),
        ("delete the section about recycling", ["Costs", "Fire safety"]),
        ("cut the Costs section", ["Fire safety", "Recycling"]),
        ("rename section 2 to Safety codes", ["Costs", "Safety codes", "Recycling"]),
        ("rename the section on recycling to 'End of life'", ["Costs", "Fire safety", "End of life"]),
        ("move section 3 to the top", ["Recycling", "Costs", "Fire safety"]),
        ("move section 1 to the end", ["Fire safety", "Recycling", "Costs"]),
        ("move section 1 to position 2", ["Fire safety", "Costs", "Recycling"]),
        ("drop section 9", ["Costs", "Fire safety", "Recycling"]),
    ],
)
def test_revision_rules(index: CorpusIndex, comment: str, titles: list[str]) -> None:
    revised = apply_comment(_outline("Costs", "Fire safety", "Recycling"), comment, index)
    assert [s.title for s in revised.sections] == titles
    assert revised.thought[0] == f"Revision requested: {comment}."


def test_added_section_is_described_by_its_documents(index: CorpusIndex) -> None:
    revised = apply_comment(_outline("Costs"), "Please add a chapter about grid-forming inverters", index)
    added = revised.sections[-1]
    assert added.title == "Grid-forming inverters" and "Grid-forming inverters" in added.description
    assert "grid" in added.focus


def test_split_tokens_rebuild_the_text() -> None:
    text = "  # Title\n\nOne two,  three [citation:1].\n"
    tokens = split_tokens(text)
    assert "".join(tokens) == text and all(t.strip() for t in tokens)
    assert split_tokens("") == [] and split_tokens("   ") == ["   "]


def test_message_ids_are_deterministic() -> None:
    ids = [Emitter("c", 1).new_id() for _ in range(2)]
    assert ids[0] == ids[1]
    emitter = Emitter("c", 1)
    assert emitter.new_id() != emitter.new_id()
    assert Emitter("c", 2).new_id() != ids[0]


def test_retrieval_is_ranked_and_ties_break_by_document_order(index: CorpusIndex) -> None:
    hits = index.search({"recycling": 1.0}, 3)
    assert hits[0].doc.title == "Recycling lithium-ion batteries"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert index.search({"zzzz-unknown": 1.0}, 3) == []
    assert index.search({}, 3) == []

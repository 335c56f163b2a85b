"""Every human-in-the-loop path of the local agent: answers, revisions, replacements, limits, cancel."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deepsearch_nb import LocalResearchAgent
from deepsearch_nb.agents import DEMO_QUESTION, FinalResult

from ._support import assert_round_grammar, assert_sections, run_round

ANSWER = "Focus on costs, fire safety and recycling."


async def _at_outline(agent: LocalResearchAgent, cid: str, answer: str = ANSWER, **config: Any) -> dict[str, Any]:
    """Ask the demo question, answer the clarification; return the first outline."""
    first = await run_round(agent, DEMO_QUESTION, cid, config=config or None)
    assert first.last["agent"] == "feedback_handler"
    second = await run_round(agent, answer, cid, "accepted")
    assert second.last["content"] == "Round 1: waiting for user feedback."
    return second.outline()


def _titles(outline: dict[str, Any]) -> list[str]:
    return [s["title"] for s in outline["sections"]]


async def test_accept_writes_the_accepted_outline(agent: LocalResearchAgent, capture_shapes: Any) -> None:
    outline = await _at_outline(agent, "accept")
    done = await run_round(agent, "", "accept", "accepted")
    assert_round_grammar(done, capture_shapes, "accept")
    assert_sections(done)
    report = done.report
    for i, title in enumerate(_titles(outline), start=1):
        assert f"# {i}. {title}\n" in report
    assert agent.pending_conversations() == ()


async def test_clarification_answer_shapes_the_outline(agent: LocalResearchAgent) -> None:
    costs = await _at_outline(agent, "answer_a", "Focus on costs, fire safety and recycling.")
    policy = await _at_outline(agent, "answer_b", "Focus on policy, supply chains and grid-forming inverters.")
    assert _titles(costs)[:3] == ["Costs", "Fire safety", "Recycling"]
    assert _titles(policy)[:3] == ["Policy", "Supply chains", "Grid-forming inverters"]
    assert "Clarification: Focus on costs" in costs["thought"]
    # ... and the report written from it.
    report = (await run_round(agent, "", "answer_a", "accepted")).report
    assert "# 1. Costs" in report and "It follows your guidance: Focus on costs, fire safety and recycling." in report


async def test_exclusion_in_the_answer_leaves_documents_out(agent: LocalResearchAgent) -> None:
    outline = await _at_outline(agent, "exclude", "Everything except recycling, and skip policy")
    text = json.dumps(outline).lower()
    assert "recycling lithium-ion batteries" not in text and "policy" not in " ".join(_titles(outline)).lower()
    assert "Left out documents whose titles name: recycling, policy." in outline["thought"]


async def test_empty_clarification_answer_is_allowed(agent: LocalResearchAgent) -> None:
    await run_round(agent, DEMO_QUESTION, "empty_answer")
    rnd = await run_round(agent, "", "empty_answer", "accepted")
    assert rnd.chunks[0]["agent"] == "outline" and rnd.last["agent"] == "outline_interaction"


async def test_revise_comment_adds_a_section(agent: LocalResearchAgent) -> None:
    before = await _at_outline(agent, "add")
    rnd = await run_round(agent, "add a section on supply chain risks", "add", "revise_comment")
    after = rnd.outline()
    assert _titles(after) == [*_titles(before), "Supply chain risks"]
    assert "Where battery cells are made" in after["sections"][-1]["description"]
    assert "Added a section on supply chain risks." in after["thought"]
    assert rnd.last["content"] == "Round 2: waiting for user feedback."
    report = (await run_round(agent, "", "add", "accepted")).report
    assert f"# {len(_titles(after))}. Supply chain risks" in report


@pytest.mark.parametrize(
    ("comment", "dropped"),
    [("drop section 2", 1), ("remove the section on recycling", 2), ("Please delete the fire safety section.", 1)],
)
async def test_revise_comment_drops_a_section(agent: LocalResearchAgent, comment: str, dropped: int) -> None:
    before = _titles(await _at_outline(agent, "drop"))
    after = (await run_round(agent, comment, "drop", "revise_comment")).outline()
    assert _titles(after) == before[:dropped] + before[dropped + 1 :]
    assert [s["id"] for s in after["sections"]] == [str(i) for i in range(1, len(before))]


async def test_revise_comment_renames_moves_and_combines(agent: LocalResearchAgent) -> None:
    before = _titles(await _at_outline(agent, "combo"))
    comment = "rename section 1 to Economics; drop section 2, then move section 3 to the top"
    after = _titles((await run_round(agent, comment, "combo", "revise_comment")).outline())
    # Numbers refer to the outline as shown, even after a drop.
    assert after == [before[2], "Economics", *before[3:]]


async def test_unrecognised_comment_is_recorded(agent: LocalResearchAgent) -> None:
    before = await _at_outline(agent, "noted")
    after = (await run_round(agent, "make it sound more optimistic", "noted", "revise_comment")).outline()
    assert _titles(after) == _titles(before)
    assert "Noted, not applied to the structure: make it sound more optimistic." in after["thought"]


async def test_revise_comment_cannot_empty_the_outline(agent: LocalResearchAgent) -> None:
    await _at_outline(agent, "keep_one", outliner_max_section_num=1)
    after = (await run_round(agent, "drop section 1", "keep_one", "revise_comment")).outline()
    assert len(after["sections"]) == 1 and "an outline needs at least one section" in after["thought"]


USER_OUTLINE = {
    "title": "Batteries for planners",
    "sections": [
        {"title": "Fire codes", "description": "NFPA 855 and UL 9540A"},
        {"title": "Lithium prices", "description": "How lithium prices moved", "focus_dimensions": ["lithium"]},
    ],
}


async def test_revise_outline_replaces_the_outline(agent: LocalResearchAgent) -> None:
    await _at_outline(agent, "replace")
    rnd = await run_round(agent, json.dumps(USER_OUTLINE), "replace", "revise_outline")
    shown = rnd.outline()
    assert shown["title"] == "Batteries for planners" and _titles(shown) == ["Fire codes", "Lithium prices"]
    assert shown["sections"][1]["focus_dimensions"] == ["lithium"]
    assert rnd.last["content"] == "Round 2: waiting for user feedback."
    done = await run_round(agent, "", "replace", "accepted")
    assert done.report.startswith("# Batteries for planners\n")
    assert "# 1. Fire codes" in done.report and "# 2. Lithium prices" in done.report
    assert "NFPA 855" in done.report.split("# 2. Lithium prices")[0]


@pytest.mark.parametrize(
    ("message", "complaint"),
    [
        ("{not json", "not valid"),
        ('{"title": "No sections", "sections": []}', "sections"),
        ('{"title": "t", "sections": [{"description": "no title"}]}', "title"),
        ('{"title": "t", "sections": [{"title": "   "}]}', "has no title"),
        (json.dumps({"title": "t", "sections": [{"title": f"s{i}"} for i in range(16)]}), "at most 15"),
    ],
)
async def test_invalid_revise_outline_keeps_the_session(
    agent: LocalResearchAgent, capture_shapes: Any, message: str, complaint: str
) -> None:
    before = await _at_outline(agent, "invalid")
    rnd = await run_round(agent, message, "invalid", "revise_outline")
    assert_round_grammar(rnd, capture_shapes, "invalid")
    assert [(c["agent"], c["event"]) for c in rnd.chunks] == [
        ("outline_interaction", "error"),
        ("outline_interaction", "waiting_user_input"),
    ]
    assert complaint in json.loads(rnd.chunks[0]["content"])["exception_info"]
    assert rnd.last["content"] == "Round 1: waiting for user feedback."  # the same question, not a new round
    assert agent.pending_conversations() == ("invalid",)
    # The user can correct it, and the outline shown before is still the one accepted otherwise.
    done = await run_round(agent, "", "invalid", "accepted")
    assert "# 1. " + _titles(before)[0] in done.report


@pytest.mark.parametrize("max_rounds", [1, 2])
async def test_maximum_rounds_goes_on_to_writing(agent: LocalResearchAgent, max_rounds: int) -> None:
    await _at_outline(agent, "max", outline_interaction_max_rounds=max_rounds)
    for number in range(2, max_rounds + 1):
        rnd = await run_round(agent, "add a section on pumped hydro", "max", "revise_comment")
        assert rnd.last["content"] == f"Round {number}: waiting for user feedback."
    last = await run_round(agent, "add a section on lithium prices", "max", "revise_comment")
    agents = [c["agent"] for c in last.chunks]
    assert agents[:3] == ["outline"] * 3
    assert last.chunks[3]["event"] == "user_input_ended"
    assert last.chunks[3]["content"] == "Maximum interaction rounds reached."
    assert last.last["content"] == "ALL END" and not last.of("outline_interaction", "waiting_user_input")
    assert "Lithium prices" in last.report  # written with the revised outline
    assert agent.pending_conversations() == ()


@pytest.mark.parametrize("stage", ["clarification", "outline"])
async def test_cancel_feedback_ends_the_run(agent: LocalResearchAgent, stage: str) -> None:
    await run_round(agent, DEMO_QUESTION, "cancel_fb")
    if stage == "outline":
        await run_round(agent, ANSWER, "cancel_fb", "accepted")
    rnd = await run_round(agent, "stop", "cancel_fb", "cancel")
    assert [(c["agent"], c["event"]) for c in rnd.chunks] == [("end", "summary_response")] * 2
    result = FinalResult.from_content(rnd.chunks[0]["content"])
    assert result.response_content == "" and not result.failed
    assert rnd.last["content"] == "ALL END"
    assert agent.pending_conversations() == ()


async def test_resume_with_a_new_config_replaces_the_settings(agent: LocalResearchAgent) -> None:
    await _at_outline(agent, "reconfig")
    rnd = await run_round(
        agent, "add a section on pumped hydro", "reconfig", "revise_comment", {"outline_interaction_max_rounds": 1}
    )
    assert rnd.last["content"] == "ALL END"


async def test_report_template_sets_the_sections(agent: LocalResearchAgent) -> None:
    template = "# Briefing\n\n## Safety\nFire codes and incidents.\n\n## Costs\nCapital costs.\n"
    config = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
    rnd = await run_round(agent, DEMO_QUESTION, "template", config=config, template=template)
    outline = rnd.outline()
    assert outline["title"] == "Briefing" and _titles(outline) == ["Safety", "Costs"]
    assert outline["sections"][0]["description"] == "Fire codes and incidents."
    assert "# 2. Costs" in rnd.report

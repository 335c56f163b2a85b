"""The local agent's stream against the protocol and the captured SDK streams."""

from __future__ import annotations

import json
from typing import Any

from deepsearch_nb import LocalResearchAgent
from deepsearch_nb.agents import (
    DEMO_ANSWERS,
    DEMO_QUESTION,
    Agent,
    Outline,
    ResearchProgress,
    SupportsSessionCleanup,
    parse_chunk,
)

from ._support import (
    CAPTURES,
    Round,
    assert_round_grammar,
    assert_sections,
    kind,
    load_capture_shapes,
    run_round,
    run_script,
)


def test_agent_satisfies_the_runtime_protocols(agent: LocalResearchAgent) -> None:
    assert isinstance(agent, Agent)
    assert isinstance(agent, SupportsSessionCleanup)


async def test_demo_session_follows_the_grammar(agent: LocalResearchAgent, capture_shapes: Any) -> None:
    rounds = await run_script(agent, "demo_grammar")
    for rnd in rounds:
        assert_round_grammar(rnd, capture_shapes, "demo_grammar")
    first, answer, revise, accept = rounds
    # r1: clarification questions, then the feedback_handler interrupt (nothing in between).
    assert [kind(c)[:2] for c in first.chunks[:1]] == [("generate_questions", "start")]
    assert first.chunks[-2]["event"] == "done" and first.chunks[-2]["agent"] == "generate_questions"
    assert first.last["agent"] == "feedback_handler" and first.last["content"] == "\nEnter your feedback: "
    assert first.last["created_time"] == ""
    questions = first.text("generate_questions")
    assert questions.startswith("1. ") and "\n2. " in questions
    assert len(first.of("generate_questions", "message")) > 5, "questions are streamed word by word"
    # r2, r3: outline then the outline_interaction interrupt with its round number.
    for rnd, number in ((answer, 1), (revise, 2)):
        assert [c["agent"] for c in rnd.chunks] == ["outline"] * 3 + ["outline_interaction"]
        assert rnd.last["content"] == f"Round {number}: waiting for user feedback."
        Outline.model_validate(rnd.outline())
    # r4: accepted, sections, final result, ALL END.
    assert accept.chunks[0]["agent"] == "outline_interaction"
    assert accept.chunks[0]["event"] == "user_input_ended" and accept.chunks[0]["content"] == "Outline accepted."
    assert isinstance(accept.chunks[0]["created_time"], int)
    assert_sections(accept)
    assert len({c["section_idx"] for c in accept.chunks} - {"0"}) == len(revise.outline()["sections"])
    result = accept.final_result()
    assert not result.failed and result.response_content_type == "text/markdown"
    assert accept.chunks[-2]["section_idx"] == "0" and accept.last["agent"] == "end"


async def test_kinds_are_a_subset_of_the_captured_sdk_stream(agent: LocalResearchAgent) -> None:
    rounds = await run_script(agent, "kinds")
    ours = {kind(c) for r in rounds for c in r.chunks}
    captured = set(load_capture_shapes())
    assert ours <= captured, ours - captured
    # ... and the successful capture's kinds all appear in ours (same vocabulary, same grammar).
    success = {kind(json.loads(line)) for line in (CAPTURES / "chunks_success.jsonl").read_text().splitlines()}
    assert success <= ours, success - ours


async def test_outline_json_has_the_sdk_fields(agent: LocalResearchAgent) -> None:
    rounds = await run_script(agent, "outline_fields", answers=DEMO_ANSWERS[:1])
    outline = rounds[-1].outline()
    captured = json.loads(
        next(
            json.loads(line)["content"]
            for line in (CAPTURES / "chunks_success.jsonl").read_text().splitlines()
            if json.loads(line)["agent"] == "outline" and json.loads(line)["event"] == "message"
        )
    )
    assert list(outline) == list(captured)
    assert [list(s) for s in outline["sections"]] == [list(captured["sections"][0])] * len(outline["sections"])
    assert [s["id"] for s in outline["sections"]] == [str(i) for i in range(1, len(outline["sections"]) + 1)]
    assert 4 <= len(outline["sections"]) <= 5  # outliner_max_section_num defaults to 5


async def test_plan_and_collector_payloads(agent: LocalResearchAgent) -> None:
    accept = (await run_script(agent, "payloads"))[-1]
    plans = [json.loads(c["content"]) for c in accept.of("plan_reasoning", "message")]
    assert plans and all(
        set(p)
        == {
            "id",
            "language",
            "title",
            "thought",
            "is_research_completed",
            "steps",
            "background_knowledge",
            "use_material_ids",
        }
        for p in plans
    )
    assert {p["is_research_completed"] for p in plans} == {True, False}
    for chunk in accept.of("collector_info_retrieval"):
        doc = json.loads(chunk["content"])
        # The SDK's keys first; then the text and the file, so the report can open the source (issue 12).
        assert list(doc) == ["url", "title", "query", "content", "path"]
        assert all(isinstance(v, str) and v for v in doc.values())
    assert all(c["content"] for c in accept.of("collector_summary"))


async def test_research_progress_reads_the_stream(agent: LocalResearchAgent) -> None:
    """The lead's front-end model folds our stream without complaint."""
    progress = ResearchProgress()
    requests = []
    for rnd in await run_script(agent, "progress"):
        for raw in rnd.raw:
            chunk = parse_chunk(raw)
            request = progress.feed(chunk).request  # type: ignore[arg-type]
            if request is not None:
                requests.append(request)
    assert progress.malformed == 0 and progress.all_end and progress.error is None
    assert [r.stage.value for r in requests] == ["clarification", "outline_review", "outline_review"]
    assert requests[0].questions.startswith("1. ")
    assert requests[1].outline is not None and requests[2].round == 2
    assert progress.final_result is not None
    assert [s.url for s in progress.sources] == [s.url for s in progress.final_result.sources()]
    assert progress.sections_done == {str(i) for i in range(1, progress.sections_total + 1)}
    assert not progress.sections_failed


async def test_no_hitl_runs_in_one_round(agent: LocalResearchAgent, capture_shapes: Any) -> None:
    config = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
    rnd = await run_round(agent, DEMO_QUESTION, "nohitl", config=config)
    assert_round_grammar(rnd, capture_shapes, "nohitl")
    assert rnd.chunks[0]["agent"] == "outline" and rnd.chunks[3]["agent"] == "plan_reasoning"
    assert not rnd.of("outline_interaction") and not rnd.of("generate_questions")
    assert_sections(rnd)
    assert agent.pending_conversations() == () and agent.running_conversations() == ()
    # Like the captured no-HITL stream: outline, then straight to the sections.
    nohitl = [json.loads(line) for line in (CAPTURES / "chunks_nohitl.jsonl").read_text().splitlines()]
    assert [c["agent"] for c in nohitl[:4]] == [c["agent"] for c in rnd.chunks[:4]]


async def test_specific_question_skips_clarification(agent: LocalResearchAgent) -> None:
    question = "How do NFPA 855 and UL 9540A fire safety standards shape where battery storage plants are built?"
    rnd = await run_round(agent, question, "specific")
    assert rnd.chunks[0]["agent"] == "outline"
    assert rnd.last["agent"] == "outline_interaction" and rnd.last["content"].startswith("Round 1:")


async def test_hitl_without_outline_review(agent: LocalResearchAgent) -> None:
    config = {"outline_interaction_enabled": False}
    first = await run_round(agent, DEMO_QUESTION, "noreview", config=config)
    assert first.last["agent"] == "feedback_handler"
    second = await run_round(agent, "costs", "noreview", "accepted")
    assert second.chunks[0]["agent"] == "outline" and not second.of("outline_interaction")
    assert second.last["content"] == "ALL END"


async def test_outline_review_without_clarification(agent: LocalResearchAgent) -> None:
    config = {"workflow_human_in_the_loop": False}
    first = await run_round(agent, DEMO_QUESTION, "reviewonly", config=config)
    assert first.chunks[0]["agent"] == "outline" and first.last["agent"] == "outline_interaction"
    done = await run_round(agent, "", "reviewonly", "accepted")
    assert done.last["content"] == "ALL END"


async def test_tokens_concatenate_to_the_section_text(agent: LocalResearchAgent) -> None:
    accept = (await run_script(agent, "tokens"))[-1]
    report = accept.report
    for idx in {c["section_idx"] for c in accept.of("sub_reporter", "message")}:
        draft = accept.text("sub_reporter", idx)
        body = draft.split("\n\n", 1)[1]
        assert body in report
        tokens = [c["content"] for c in accept.of("sub_reporter", "message") if c["section_idx"] == idx]
        assert all(t.strip() for t in tokens) and max(len(t.split()) for t in tokens) == 1


def test_round_helper_round_trips() -> None:
    raw = '{"agent": "end", "event": "summary_response", "content": "ALL END", "message_type": "message_chunk"}'
    assert Round([raw]).last["content"] == "ALL END"

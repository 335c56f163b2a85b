"""Bad input to the local agent: what the SDK raises before streaming, and what it streams as errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deepsearch_nb import ConfigurationError, InvalidInputError, LocalResearchAgent
from deepsearch_nb.agents import DEMO_QUESTION

from ._support import assert_round_grammar, run_round


async def _first(agent: LocalResearchAgent, **kwargs: Any) -> str:
    params: dict[str, Any] = {"message": DEMO_QUESTION, "conversation_id": "bad_input"} | kwargs
    gen = agent.run(**params)
    try:
        return await anext(aiter(gen))
    finally:
        await gen.aclose()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"message": ""}, "message is empty"),
        ({"message": "   "}, "message is empty"),
        ({"message": "", "interrupt_feedback": "revise_comment"}, "'revise_comment' answer"),
        ({"message": "", "interrupt_feedback": "cancel"}, "Only interrupt_feedback='accepted'"),
        ({"message": 42}, "message must be a string"),
        ({"conversation_id": "space:conv"}, "conversation_id 'space:conv' is invalid"),
        ({"conversation_id": ""}, "1 to 128 letters"),
        ({"conversation_id": "x" * 129}, "is invalid"),
        ({"conversation_id": None}, "is invalid"),
        ({"interrupt_feedback": "accept"}, "interrupt_feedback 'accept' is not valid"),
        ({"interrupt_feedback": None}, "use one of '', 'accepted'"),
        ({"report_template": None}, "report_template must be a string"),
    ],
)
async def test_parameters_are_checked_before_the_first_chunk(
    agent: LocalResearchAgent, kwargs: dict[str, Any], words: str
) -> None:
    with pytest.raises(InvalidInputError, match=words.replace("(", r"\(").replace(")", r"\)")) as err:
        await _first(agent, **kwargs)
    assert isinstance(err.value, ValueError)  # InvalidInputError is a ValueError, like the SDK's
    assert agent.pending_conversations() == () and agent.running_conversations() == ()


async def test_accepted_may_have_an_empty_message(agent: LocalResearchAgent) -> None:
    chunk = json.loads(await _first(agent, message="", interrupt_feedback="accepted"))
    assert chunk["agent"] == "framework"  # valid input; only the conversation has nothing to resume


@pytest.mark.parametrize("feedback", ["accepted", "revise_comment", "revise_outline", "cancel"])
async def test_resume_without_a_pending_question(agent: LocalResearchAgent, capture_shapes: Any, feedback: str) -> None:
    rnd = await run_round(agent, "some answer", "no_pending", feedback)
    assert_round_grammar(rnd, capture_shapes, "no_pending")
    assert [(c["agent"], c["event"]) for c in rnd.chunks] == [("framework", "error"), ("framework", "summary_response")]
    info = json.loads(rnd.chunks[0]["content"])["exception_info"]
    assert "not waiting for an answer" in info and "interrupt_feedback=''" in info
    assert rnd.last["content"] == "ALL END"
    assert "section_idx" not in rnd.chunks[0]  # the SDK's own chunks carry no *_idx fields


async def test_fresh_message_on_a_waiting_conversation(agent: LocalResearchAgent, capture_shapes: Any) -> None:
    await run_round(agent, DEMO_QUESTION, "waiting")
    rnd = await run_round(agent, "a different question about batteries", "waiting")
    assert_round_grammar(rnd, capture_shapes, "waiting")
    assert [c["agent"] for c in rnd.chunks] == ["framework", "framework"]
    assert "was waiting for an answer" in json.loads(rnd.chunks[0]["content"])["exception_info"]
    assert agent.pending_conversations() == ()  # released, like the SDK's checkpointer does
    again = await run_round(agent, "", "waiting", "accepted")
    assert again.chunks[0]["agent"] == "framework"


async def test_a_second_run_on_a_streaming_conversation_is_refused(agent: LocalResearchAgent) -> None:
    gen = agent.run(DEMO_QUESTION, "busy")
    await anext(gen)
    rnd = await run_round(agent, "answer", "busy", "accepted")
    assert "already streaming" in json.loads(rnd.chunks[0]["content"])["exception_info"]
    rest = [chunk async for chunk in gen]  # the first run is undisturbed
    assert json.loads(rest[-1])["agent"] == "feedback_handler"
    assert agent.pending_conversations() == ("busy",)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"outliner_max_section_num": 0}, "outliner_max_section_num"),
        ({"outliner_max_section_num": 16}, "from 1 to 15"),
        ({"outliner_max_section_num": "5"}, "must be an integer"),
        ({"outline_interaction_max_rounds": 101}, "from 1 to 100"),
        ({"workflow_human_in_the_loop": "yes"}, "true or false"),
        ({"outline_interaction_enabled": 1}, "true or false"),
        ({"local_pacing_s": -1}, "local_pacing_s"),
        ({"local_pacing_s": float("nan")}, "local_pacing_s"),
    ],
)
async def test_bad_config_is_a_framework_error(
    agent: LocalResearchAgent, capture_shapes: Any, config: dict[str, Any], words: str
) -> None:
    rnd = await run_round(agent, DEMO_QUESTION, "bad_config", config=config)
    assert_round_grammar(rnd, capture_shapes, "bad_config")
    assert [c["agent"] for c in rnd.chunks] == ["framework", "framework"]
    assert words in json.loads(rnd.chunks[0]["content"])["exception_info"]


async def test_bad_config_on_resume_releases_the_session(agent: LocalResearchAgent) -> None:
    await run_round(agent, DEMO_QUESTION, "bad_resume")
    rnd = await run_round(agent, "costs", "bad_resume", "accepted", {"outliner_max_section_num": 99})
    assert rnd.chunks[0]["event"] == "error" and agent.pending_conversations() == ()


async def test_sdk_config_keys_are_ignored(agent: LocalResearchAgent) -> None:
    config: dict[str, Any] = {
        "llm_config": {"general": {}},
        "search_mode": "research",
        "outliner_max_section_num": None,
    }
    rnd = await run_round(agent, DEMO_QUESTION, "sdk_keys", config=config)
    assert rnd.last["agent"] == "feedback_handler"


def test_constructor_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        LocalResearchAgent(tmp_path / "missing")
    (tmp_path / "notes.csv").write_text("a,b\n")
    with pytest.raises(ConfigurationError, match="No readable documents"):
        LocalResearchAgent(tmp_path)
    with pytest.raises(ConfigurationError, match="pacing"):
        LocalResearchAgent(pacing=-0.1)

"""The local agent's session as data: what one worker writes to Redis, another reads and goes on from."""

from __future__ import annotations

import json

import pytest

from deepsearch_nb import InvalidInputError, LocalResearchAgent
from deepsearch_nb._agents._local._session import (
    MemorySessionStore,
    Session,
    SessionStore,
    session_from_data,
    session_to_data,
)
from deepsearch_nb.agents import DEMO_ANSWERS, DEMO_QUESTION


async def _rounds(agent: LocalResearchAgent, conversation_id: str, answers: list[tuple[str, str]]) -> list[str]:
    chunks = [c async for c in agent.run(DEMO_QUESTION, conversation_id)]
    for feedback, message in answers:
        chunks += [c async for c in agent.run(message, conversation_id, interrupt_feedback=feedback)]
    return chunks


async def test_a_session_moved_as_json_to_another_agent_goes_on_exactly_as_at_home() -> None:
    home_store, away_store = MemorySessionStore(), MemorySessionStore()
    home, away = LocalResearchAgent(sessions=home_store), LocalResearchAgent(sessions=away_store)
    assert isinstance(home_store, SessionStore)
    answers = [("accepted", DEMO_ANSWERS[0]), ("revise_comment", "add a section on supply chain risks")]
    reference = await _rounds(LocalResearchAgent(), "conv_s", [*answers, ("accepted", "")])
    await _rounds(home, "conv_s", answers)  # paused at the second outline review
    stored = await home_store.load("conv_s")
    assert isinstance(stored, Session) and stored.outline is not None
    data = json.loads(json.dumps(session_to_data(stored)))  # through Redis: plain JSON
    assert session_from_data(data) == stored
    await away_store.save("conv_s", session_from_data(data))
    rest = [c async for c in away.run("", "conv_s", interrupt_feedback="accepted")]

    def content(chunks: list[str]) -> list[tuple[str, str]]:  # all but the times
        return [(json.loads(c)["message_id"], json.loads(c)["content"]) for c in chunks]

    assert content(rest) == content(reference[-len(rest) :])  # the same ids and text: the same report
    assert await away_store.load("conv_s") is None  # released at ALL END
    assert home.pending_conversations() == ("conv_s",) and away.pending_conversations() == ()


@pytest.mark.parametrize("data", [None, {}, {"format": 99}, {"format": 1, "stage": "nowhere"}])
def test_data_that_is_not_a_session_is_refused_with_what_to_do(data: object) -> None:
    with pytest.raises(InvalidInputError, match="Start the conversation again"):
        session_from_data(data)

"""The panel's Cancel button on the real SDK (finding 4 of the real-SDK issue).

The button must set the run's cancel event before it touches a widget: anything in between (the old
code handed the whole cancel to the loop first) is a window in which the SDK, between its cancel check
and its next LLM call, starts requests that are paid for and then thrown away.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from deepsearch_nb import RunState
from deepsearch_nb._ui._panel import ResearchPanel
from deepsearch_nb.runtime import ChunkReceived, RunEvent, RunManager
from deepsearch_nb.testing import CommRecorder, HttpSends, StubLLM, recording_comms, tasks_left

from ._sdk_support import (
    QUESTION,
    SDK_MARKS,
    guard,
    key,
    llm,
    make_agent,
    no_request_after,
    sends,
    workdir,
)

__all__ = ["guard", "key", "llm", "sends", "workdir"]  # fixtures used by name
pytestmark = SDK_MARKS


@pytest.fixture
def recorder() -> Iterator[CommRecorder]:
    with recording_comms() as rec:
        yield rec


@pytest.mark.parametrize("at", ["plan_reasoning", "collector_info_retrieval"])
async def test_the_cancel_button_sets_the_event_before_any_new_llm_request(
    manager: RunManager, llm: StubLLM, sends: HttpSends, key: str, recorder: CommRecorder, at: str
) -> None:
    agent = make_agent(llm)
    run = manager.start(agent, QUESTION)
    panel = ResearchPanel(run, interval=0.01)
    for answer in ("Focus on costs.", "accept"):
        assert await run.until_settled(120) is RunState.WAITING_USER_INPUT, run.error
        run.submit(answer)
    clicked: list[float] = []
    set_by_the_click: list[bool] = []

    def click_at(event: RunEvent) -> None:
        if isinstance(event, ChunkReceived) and event.chunk.agent == at and not clicked:
            clicked.append(time.monotonic())
            recorder.click(panel.cancel_button)  # what the browser sends; handled right here, on the loop
            set_by_the_click.append(run.cancel_requested)  # (asserted below: listener errors are only logged)

    run.subscribe(click_at)
    await run.wait(60)
    assert clicked, f"no {at} chunk arrived"
    assert set_by_the_click == [True], "the click must set the cancel event before anything else"
    assert run.state is RunState.CANCELLED and "cancelled by the user" in (run.cancel_reason or "")
    await manager.drain(10)
    no_request_after(sends, clicked[0])
    panel.close()
    assert await tasks_left() == []
    assert agent.sdk_sessions(run.conversation_id) == []

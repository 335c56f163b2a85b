"""The remote agent against a real DeepSearch run API (deepsearch_nb.server) served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from deepsearch_nb import LocalResearchAgent, RemoteAgent, RunState
from deepsearch_nb._agents._remote import sse_data
from deepsearch_nb.agents import DEMO_QUESTION, RemoteAgentError
from deepsearch_nb.runtime import ChunkReceived, RunManager
from deepsearch_nb.server import create_app
from deepsearch_nb.testing import LoopbackServer


@pytest.fixture(scope="module")
def served() -> Iterator[LoopbackServer]:
    """The run API under uvicorn, serving a paced local agent (a report takes seconds: long enough to cancel)."""
    agent = LocalResearchAgent(pacing=0.002)
    with LoopbackServer(create_app(lambda request: agent), log_level="warning") as server:
        yield server


@pytest.fixture
async def remote(served: LoopbackServer) -> AsyncIterator[RemoteAgent]:
    agent = RemoteAgent(served.url, space_id="team")
    yield agent
    await agent.aclose()


_COUNTS = ("status", "live_runs", "paused_sessions", "open_streams")


async def _health(url: str) -> dict[str, object]:
    """The seed's health path (an alias of /health): the counts, without the worker's name."""
    async with httpx.AsyncClient() as client:
        health = dict((await client.get(url + "/api/health")).json())
    assert health["redis"] is None and isinstance(health["worker"], str)  # one process, no Redis
    return {k: health[k] for k in _COUNTS}


IDLE = {"status": "ok", "live_runs": 0, "paused_sessions": 0, "open_streams": 0}


async def _settled_health(url: str, timeout: float = 3.0) -> dict[str, object]:
    """The server's health once its runs and streams have wound down (they end just after the client's)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        health = await _health(url)
        if (health["live_runs"], health["open_streams"]) == (0, 0) or asyncio.get_running_loop().time() > deadline:
            return health
        await asyncio.sleep(0.02)


async def test_a_hitl_run_over_http(manager: RunManager, remote: RemoteAgent, served: LoopbackServer) -> None:
    run = manager.start(remote, DEMO_QUESTION)
    assert await run.until_settled() is RunState.WAITING_USER_INPUT
    assert run.pending is not None and run.pending.questions
    run.submit("Focus on costs and safety")
    await run.until_settled()
    assert run.pending is not None and run.pending.outline is not None
    run.submit("revise: add a section on recycling")
    await run.until_settled()
    assert run.pending is not None and run.pending.outline is not None
    assert any("ecycl" in s.title for s in run.pending.outline.sections)
    run.submit("accept")
    await asyncio.wait_for(run.wait(), 60)
    assert run.state is RunState.COMPLETED, run.error
    assert "[citation:1]" in run.report_markdown
    assert await _settled_health(served.url) == IDLE


async def test_cancel_reaches_the_server(manager: RunManager, remote: RemoteAgent, served: LoopbackServer) -> None:
    run = manager.start(remote, DEMO_QUESTION)
    await run.until_settled()
    assert (await _health(served.url))["paused_sessions"] == 1
    run.cancel()
    await run
    assert run.state is RunState.CANCELLED
    assert await _settled_health(served.url) == IDLE


async def test_cancel_mid_stream_stops_the_server_run(
    manager: RunManager, remote: RemoteAgent, served: LoopbackServer
) -> None:
    run = manager.start(
        remote, DEMO_QUESTION, agent_config={"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
    )
    writing = asyncio.Event()
    run.subscribe(lambda e: writing.set() if isinstance(e, ChunkReceived) and e.chunk.agent == "sub_reporter" else None)
    await asyncio.wait_for(writing.wait(), 30)
    assert (await _health(served.url))["live_runs"] == 1
    run.cancel()
    await asyncio.wait_for(run.wait(), 2)
    assert run.state is RunState.CANCELLED
    assert (await _settled_health(served.url))["live_runs"] == 0


async def test_bad_configuration_is_a_clear_http_error(remote: RemoteAgent) -> None:
    remote.request = {"info_collector_search_method": "web"}
    with pytest.raises(RemoteAgentError, match=r"HTTP 400: .*needs web_search_config"):
        async for _ in remote.run("q", "conv-x"):
            pass
    remote.request = {"outliner_max_section_num": 99}
    with pytest.raises(RemoteAgentError, match=r"HTTP 422: outliner_max_section_num: .*less than or equal to 15"):
        async for _ in remote.run("q", "conv-y"):
            pass


async def test_sse_framing_skips_pings_and_joins_data_lines() -> None:
    async def lines() -> AsyncIterator[str]:
        for line in [": ping - 2026-11-24 00:00:00", "", 'data: {"a":', "data: 1}", "", "event: x", "data: 2", ""]:
            yield line

    assert [d async for d in sse_data(lines())] == ['{"a":\n1}', "2"]


async def test_the_token_is_a_secret_a_spec_names_only_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepsearch_nb import ConfigurationError
    from deepsearch_nb._agents._select import agent_from_spec, make_agent

    monkeypatch.setenv("TEAM_TOKEN", "tok-test-spec-8d2e")
    monkeypatch.delenv("DEEPSEARCH_NB_TOKEN", raising=False)
    agent = make_agent("remote", url="http://127.0.0.1:9", token_env="TEAM_TOKEN")
    assert isinstance(agent, RemoteAgent)
    try:
        assert "tok-test-spec-8d2e" in agent.secret_values()
        spec = agent.spec()
        assert spec["config"]["token_env"] == "TEAM_TOKEN" and "tok-test-spec-8d2e" not in repr(spec)
        rebuilt = agent_from_spec(spec)
        assert isinstance(rebuilt, RemoteAgent) and "tok-test-spec-8d2e" in rebuilt.secret_values()
        await rebuilt.aclose()
        monkeypatch.delenv("TEAM_TOKEN")
        with pytest.raises(ConfigurationError, match="TEAM_TOKEN, which is not set"):
            agent_from_spec(spec)
        monkeypatch.setenv("DEEPSEARCH_NB_TOKEN", "tok-test-default-1a")  # the default variable, when set
        default = make_agent("remote", url="http://127.0.0.1:9")
        assert isinstance(default, RemoteAgent) and "tok-test-default-1a" in default.secret_values()
        await default.aclose()
    finally:
        await agent.aclose()

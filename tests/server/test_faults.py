"""Faults a team server meets: Redis restarting under a run, a server dying mid-stream, one never there."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from deepsearch_nb import RemoteAgent, RunState
from deepsearch_nb.agents import DEMO_QUESTION
from deepsearch_nb.runtime import ChunkReceived, RunManager

from ._support import TOKEN, RedisProcess, ServerProcess, free_port, post, wait_until

pytestmark = pytest.mark.redis

NO_HITL = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisProcess]:
    """A Redis of this module's own, so restarting it disturbs no other test."""
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.close()


def _cancel(conversation_id: str) -> dict[str, str]:
    return {"space_id": "team", "conversation_id": conversation_id, "message": "", "interrupt_feedback": "cancel"}


async def _writing(run: object) -> None:
    writing = asyncio.Event()
    run.subscribe(lambda e: writing.set() if isinstance(e, ChunkReceived) and e.chunk.agent == "sub_reporter" else None)  # type: ignore[attr-defined]
    await asyncio.wait_for(writing.wait(), 30)


async def test_redis_restarting_under_a_run(own_redis: RedisProcess) -> None:
    a = ServerProcess(own_redis.url, pacing=0.004)
    b = ServerProcess(own_redis.url)
    agent = RemoteAgent(a.url, space_id="team", token=TOKEN)
    manager = RunManager(cancel_grace_s=1.0)
    try:
        run = manager.start(agent, DEMO_QUESTION, conversation_id="conv_through", space_id="team", agent_config=NO_HITL)
        await _writing(run)
        own_redis.stop()
        await wait_until(lambda: not b.health()["redis"]["connected"])
        t0 = time.perf_counter()
        down = await post(b.url, _cancel("conv_elsewhere"), b.headers)
        assert down.json()["status"] == "no_active_task_or_forward_failed"  # it could not be forwarded
        assert time.perf_counter() - t0 < 5
        assert run.state is RunState.RUNNING  # the run in flight goes on streaming
        own_redis.start()
        await asyncio.wait_for(run.wait(), 60)
        assert run.state is RunState.COMPLETED, run.error
        assert "[citation:1]" in run.report_markdown
        await wait_until(lambda: a.health()["redis"]["connected"] and b.health()["redis"]["connected"], timeout=20)
        # Reconnected: a cancel crosses workers again.
        again = manager.start(agent, DEMO_QUESTION, conversation_id="conv_after", space_id="team", agent_config=NO_HITL)
        await _writing(again)
        assert (await post(b.url, _cancel("conv_after"), b.headers)).json()["status"] == "forwarded"
        await asyncio.wait_for(again.wait(), 10)
        assert again.state is RunState.CANCELLED and again.chunks[-1].is_cancel
        assert "lost Redis" in a.log()
    finally:
        await manager.aclose(5)
        await agent.aclose()
        a.close()
        b.close()


async def test_a_stream_cut_mid_run_keeps_what_was_received_and_fails_with_the_reason(own_redis: RedisProcess) -> None:
    server = ServerProcess(own_redis.url, pacing=0.004)
    agent = RemoteAgent(server.url, space_id="team", token=TOKEN)
    manager = RunManager(cancel_grace_s=1.0)
    try:
        run = manager.start(agent, DEMO_QUESTION, conversation_id="conv_cut", space_id="team", agent_config=NO_HITL)
        await _writing(run)
        server.stop(kill=True)  # the server process dies (SIGKILL, by its PID)
        await asyncio.wait_for(run.wait(), 10)
        assert run.state is RunState.FAILED
        assert "cut the stream mid-run" in (run.error or ""), run.error
        assert run.chunk_total > 10 and run.progress.outline is not None  # what came is kept
    finally:
        await manager.aclose(5)
        await agent.aclose()
        server.close()


async def test_a_server_that_cannot_be_reached_is_a_clear_failure() -> None:
    agent = RemoteAgent(f"http://127.0.0.1:{free_port()}", token=TOKEN)
    manager = RunManager(cancel_grace_s=1.0)
    try:
        run = manager.start(agent, DEMO_QUESTION)
        await asyncio.wait_for(run.wait(), 20)
        assert run.state is RunState.FAILED
        assert "Cannot reach the DeepSearch server at http://127.0.0.1:" in (run.error or "")
        assert "is it running" in (run.error or "")
    finally:
        await manager.aclose(5)
        await agent.aclose()


async def test_paused_conversations_expire_and_the_oldest_is_evicted_beyond_capacity(own_redis: RedisProcess) -> None:
    import json

    import httpx
    import redis

    server = ServerProcess(own_redis.url, extra=["--hitl-capacity", "1", "--session-ttl", "60"])
    store = redis.Redis.from_url(own_redis.url)
    url = server.url + "/api/v1/agent/deepsearch/run/"
    first = {"space_id": "team", "conversation_id": "conv_old", "message": DEMO_QUESTION}
    second = {**first, "conversation_id": "conv_new"}
    try:
        client = httpx.AsyncClient(timeout=30)
        async with client, client.stream("POST", url, json=first, headers=server.headers) as old:
            lines = old.aiter_lines()
            async for line in lines:
                if "waiting_user_input" in line:
                    break
            assert 0 < store.ttl("deepsearch:conversation:team:conv_old") <= 60
            assert 0 < store.ttl("deepsearch:local-session:conv_old") <= 60
            async with client.stream("POST", url, json=second, headers=server.headers) as new:
                async for line in new.aiter_lines():
                    if "waiting_user_input" in line:
                        break
                rest = [json.loads(line[5:]) async for line in lines if line.startswith("data:")]
                assert [c["event"] for c in rest] == ["cancel"]  # the oldest question was evicted
                assert store.get("deepsearch:conversation:team:conv_old") is None
                assert store.exists("deepsearch:conversation:team:conv_new"), server.log()
                await post(server.url, {**second, "message": "", "interrupt_feedback": "cancel"}, server.headers)
        await wait_until(lambda: store.get("deepsearch:local-session:conv_old") is None)
        assert "evicting team:conv_old (more than 1 paused)" in server.log()
    finally:
        store.close()
        server.close()

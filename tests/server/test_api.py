"""The seed's API at the edges: the token, bad bodies, bad configuration, and serve refusing to start."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
import pytest

from deepsearch_nb import RemoteAgent, RunState
from deepsearch_nb.agents import DEMO_QUESTION, RemoteAgentError
from deepsearch_nb.runtime import RunManager

from ._support import TOKEN, RedisProcess, ServerProcess, free_port, post

pytestmark = pytest.mark.redis

RUN = "/api/v1/agent/deepsearch/run/"
BODY = {"space_id": "team", "conversation_id": "conv_api", "message": "q"}


@pytest.mark.parametrize(
    ("headers", "says"),
    [({}, "needs a bearer token"), ({"Authorization": "Bearer not-the-token"}, "not the one this server")],
)
async def test_every_request_needs_the_token(
    pair: tuple[ServerProcess, ServerProcess], headers: dict[str, str], says: str
) -> None:
    a, _ = pair
    async with httpx.AsyncClient(timeout=10) as client:
        for response in (
            await client.post(a.url + RUN, json=BODY, headers=headers),
            await client.get(a.url + "/health", headers=headers),
            await client.get(a.url + "/api/health", headers=headers),
        ):
            assert response.status_code == 401
            assert says in response.json()["detail"]
            assert response.headers["www-authenticate"] == "Bearer"


async def test_a_wrong_token_ends_a_notebook_run_with_a_clear_error(pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, _ = pair
    agent = RemoteAgent(a.url, token="not-the-token")
    manager = RunManager(cancel_grace_s=0.5)
    try:
        run = manager.start(agent, DEMO_QUESTION)
        await asyncio.wait_for(run.wait(), 10)
        assert run.state is RunState.FAILED
        assert "HTTP 401" in (run.error or "") and "not the one this server" in (run.error or "")
        assert "not-the-token" not in (run.error or "")  # the agent's token is scrubbed from what it says
    finally:
        await manager.aclose(5)
        await agent.aclose()
    tokenless = RemoteAgent(a.url)
    try:
        with pytest.raises(RemoteAgentError, match="HTTP 401"):
            await tokenless.cancel_tasks("conv_x")
    finally:
        await tokenless.aclose()


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"info_collector_search_method": "web"}, 400, "needs web_search_config"),
        ({"search_mode": "search"}, 400, "search_mode='research'"),
        ({"template_id": 7}, 404, "Report template 7 was not found"),
        ({"interrupt_feedback": "accepted", "conversation_id": "conv_never"}, 409, "is waiting for an answer"),
        ({"outliner_max_section_num": 99}, 422, "less than or equal to 15"),
        ({"conversation_id": "has space"}, 422, "should match pattern"),
        ({"interrupt_feedback": "maybe"}, 422, "Input should be"),
        ({"web_search_config": {"web_search_config_id": "x"}}, 422, "valid integer"),
    ],
)
async def test_bad_bodies_and_configuration_are_refused_before_any_stream(
    pair: tuple[ServerProcess, ServerProcess], change: dict[str, object], status: int, says: str
) -> None:
    a, _ = pair
    key = "sk-test-must-not-echo-71c3"
    response = await post(a.url, {**BODY, **change, "llm_config": {"api_key": key}}, a.headers)
    assert response.status_code == status
    assert says in response.text
    assert key not in response.text


async def test_a_malformed_body_is_a_422_without_the_values(pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, _ = pair
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            a.url + RUN, content=b'{"space_id": "t", "llm_config": {"api_key": "sk-test-x1"', headers=a.headers
        )
    assert response.status_code == 422 and "sk-test-x1" not in response.text


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DEEPSEARCH_NB_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "deepsearch_nb.cli", "serve", "--port", str(free_port()), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--host", "0.0.0.0"), "Refusing to listen on 0.0.0.0 without a token"),
        (("--workers", "2"), "--workers > 1 needs --redis URL"),
        (("--redis", "redis://127.0.0.1:{closed}/0"), "Cannot reach Redis at redis://127.0.0.1:"),
        (("--redis", "redis://:pw-test-9@127.0.0.1:{closed}/0"), "redis://:***@127.0.0.1:"),
        (("--corpus", "/nonexistent/corpus"), "/nonexistent/corpus"),
        (("--agent", "sdk"), "needs an LLM"),
    ],
)
def test_serve_refuses_a_configuration_that_cannot_work(args: tuple[str, ...], says: str) -> None:
    closed = str(free_port())
    result = _serve(*(a.replace("{closed}", closed) for a in args))
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert "pw-test-9" not in result.stderr and "Traceback" not in result.stderr


def test_the_token_may_come_from_the_environment(redis: RedisProcess) -> None:
    """A token in DEEPSEARCH_NB_TOKEN lets serve listen beyond loopback (checked, then stopped at once)."""
    result = _serve("--host", "0.0.0.0", "--redis", "redis://127.0.0.1:1/0", env={"DEEPSEARCH_NB_TOKEN": TOKEN})
    assert "Refusing" not in result.stderr and "Cannot reach Redis" in result.stderr

"""Issue 9, finding 7: keys held by an agent object are secrets of the run, scrubbed everywhere.

The scrubbers used to know only the run's ``agent_config``: a ``LocalResearchAgent(llm={"api_key": K})``
whose endpoint echoed the key put K into ``run.error``, the report and every MIME entry.
"""

from __future__ import annotations

import json
import logging
import secrets

import httpx
import pytest

from deepsearch_nb import LocalResearchAgent, Report, RunState
from deepsearch_nb.agents import RemoteAgent, SupportsSecrets
from deepsearch_nb.runtime import RunManager

NO_STOPS = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}


def _echoing_llm(request: httpx.Request) -> httpx.Response:
    """An endpoint that refuses the key and echoes every header it got, as some gateways do."""
    headers = "; ".join(f"{k}: {v}" for k, v in request.headers.items())
    return httpx.Response(401, text=f"Incorrect API key. You sent {headers} to {request.url}")


@pytest.mark.parametrize("where", ["api_key", "header", "url", "env"])
async def test_finding7_a_key_held_by_the_local_agent_never_reaches_the_run_or_its_report(
    manager: RunManager, where: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = secrets.token_urlsafe(24)
    llm: dict[str, object] = {"base_url": "http://llm.invalid/v1", "model": "m"}
    llm["transport"] = httpx.MockTransport(_echoing_llm)
    if where == "api_key":
        llm["api_key"] = key
    elif where == "header":
        llm["headers"] = {"Authorization": f"Bearer {key}"}
    elif where == "url":
        llm["base_url"] = f"http://llm.invalid/v1?api_key={key}"
    else:
        monkeypatch.setenv("DEEPSEARCH_NB_TEST_LLM_KEY", key)
        llm["api_key_env"] = "DEEPSEARCH_NB_TEST_LLM_KEY"
    agent = LocalResearchAgent(llm=llm)
    assert isinstance(agent, SupportsSecrets) and key in agent.secret_values()
    with caplog.at_level(logging.DEBUG):
        run = manager.start(agent, "grid batteries", agent_config=NO_STOPS)
        await run.wait(timeout=20)
    assert run.state is RunState.FAILED and run.error and "401" in run.error
    report = Report.from_run(run)
    texts = {
        "error": run.error,
        "repr": repr(run),
        "document": json.dumps(report.doc, ensure_ascii=False),
        **{mime: json.dumps(v, ensure_ascii=False) for mime, v in report._repr_mimebundle_().items()},
        "logs": "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records),
        "spec": json.dumps(agent.spec(), default=str),
    }
    leaks = [name for name, text in texts.items() if key in text]
    assert not leaks, leaks


def test_finding7_the_remote_agent_lists_its_keys_request_client_headers_and_url_password() -> None:
    key, token, url_key = (secrets.token_urlsafe(24) for _ in range(3))
    client = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"})
    agent = RemoteAgent(f"http://user:{url_key}@127.0.0.1:9", request={"llm_config": {"api_key": key}}, client=client)
    assert isinstance(agent, SupportsSecrets)
    assert {key, token, f"Bearer {token}", url_key} <= set(agent.secret_values())
    assert url_key not in json.dumps(agent.spec())

"""Issue 9: a random key in every place a user can put one, searched for in every artifact a run leaves.

The key is ``secrets.token_urlsafe(24)`` (not shaped like ``sk-...``, so no pattern catches it by its
looks: only the definition of a secret in ``deepsearch_nb/_secrets.py`` can). Each place a key can enter
is tried: the run's ``agent_config`` (plain, as the SDK's bytearray, under the short names ``key``,
``auth``, ``openai_key``), an ``Authorization: Bearer`` header whose bare token is echoed, a URL's
``?api_key=``, an environment variable the config names, and the ``llm=`` of a ``LocalResearchAgent``
whose endpoint (a tiny HTTP server on 127.0.0.1) echoes everything it received in a 401. Every artifact
is searched: ``run.error``, ``repr(run)``, the report document, ``Report.save`` .md and .json, the four
MIME entries, a saved notebook holding the output, logs at DEBUG (root and ``deepsearch_nb``), exception
texts, the CLI's report, transcript, stdout and stderr, and the server's responses and log records.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from deepsearch_nb import ConfigurationError, LocalResearchAgent, RemoteAgent, Report, RunState
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.server import create_app
from deepsearch_nb.testing import LoopbackServer, report_round, until_chunks

NO_STOPS = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
ENV = "DEEPSEARCH_NB_SECRET_SUITE_KEY"
SEARCHED: dict[str, int] = {}  # test -> artifacts searched (printed at the end)


def _random_key() -> str:
    while True:  # a key of letters only would be word-like; real keys are not, and neither is this one
        key = secrets.token_urlsafe(24)
        if not key.isalpha():
            return key


KEY = _random_key()


class Artifacts:
    """What a test collected; ``check`` fails naming every artifact that holds the key."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.texts: dict[str, str] = {}

    def add(self, what: str, value: object) -> None:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        assert what not in self.texts, what
        self.texts[what] = text

    def check(self, minimum: int) -> None:
        leaks = sorted(what for what, text in self.texts.items() if KEY in text)
        for what in leaks:  # where exactly, to fix it
            text = self.texts[what]
            for at in [i for i in range(len(text)) if text.startswith(KEY, i)][:3]:
                print(f"LEAK {what}: ...{text[max(0, at - 300) : at + 60]!r}")
        assert not leaks, f"the key leaked into {leaks}"
        assert len(self.texts) >= minimum, sorted(self.texts)
        SEARCHED[self.name] = SEARCHED.get(self.name, 0) + len(self.texts)


# --- a tiny LLM endpoint that echoes what it got ------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        key = str(self.headers.get("authorization")).removeprefix("Bearer ")  # the bare key, as OpenAI echoes it
        body = f"Incorrect API key provided: {key}. You sent {self.path} with "
        body += "; ".join(f"{k}: {v}" for k, v in self.headers.items())
        data = body.encode()
        self.send_response(401)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENV, KEY)
    return ENV


# --- an agent that echoes its config, as a failing SDK does ---------------------------------------


class EchoingAgent:
    """Fails with an error that quotes what it was given (the key among it) and the key bare."""

    kind = "echo"

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[dict[str, Any]]:
        yield {"agent": "report", "event": "message", "content": "Working on it.", "conversation_id": conversation_id}
        seen = json.dumps(dict(agent_config or {}), default=lambda b: bytes(b).decode())
        env = os.environ.get(ENV, "")
        raise RuntimeError(f"upstream said 401: invalid credentials in {seen}; env key {env}; token {KEY} revoked")


def _configs(key_env: str) -> dict[str, dict[str, Any]]:
    return {
        "llm_config.api_key": {"llm_config": {"api_key": KEY, "model_name": "m"}},
        "sdk_bytearray": {"llm_config": {"general": {"api_key": bytearray(KEY.encode())}}},
        "bearer_header": {"headers": {"Authorization": f"Bearer {KEY}"}},
        "url_query": {"llm_config": {"base_url": f"https://llm.example/v1?api_key={KEY}"}},
        "env_var": {"llm_config": {"api_key_env": key_env}},
        "short_names": {"key": KEY, "auth": KEY, "openai_key": KEY},
    }


# --- the in-process artifacts -----------------------------------------------------------------------


def _search_run(found: Artifacts, run: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    found.add("run.error", run.error or "")
    found.add("repr(run)", repr(run))
    found.add("run.notices", [n.message for n in run.notices])
    report = Report.from_run(run)
    found.add("report.doc", report.doc)
    found.add("repr(report)", repr(report))
    found.add("Report.save .md", report.save(tmp_path / "r.md").read_text(encoding="utf-8"))
    found.add("Report.save .json", report.save(tmp_path / "r.json").read_text(encoding="utf-8"))
    bundle = report._repr_mimebundle_()
    for mime, value in bundle.items():
        found.add(f"mime {mime}", value)
    output = {"output_type": "display_data", "data": bundle, "metadata": {}}  # a saved notebook's cell
    cell = {"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {}, "outputs": [output]}
    notebook = {"cells": [{**cell, "source": "report"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "saved.ipynb").write_text(json.dumps(notebook, indent=1, ensure_ascii=False), encoding="utf-8")
    found.add("saved notebook", (tmp_path / "saved.ipynb").read_text(encoding="utf-8"))
    found.add("logs (root and deepsearch_nb, DEBUG)", caplog.text)


@pytest.mark.parametrize("place", list(_configs("X")))
async def test_a_key_in_the_run_config_reaches_no_artifact(
    place: str, key_env: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, manager: RunManager
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="deepsearch_nb")
    run = manager.start(EchoingAgent(), "What should a planner know about grid-scale battery storage?",
                        agent_config=_configs(key_env)[place])  # fmt: skip
    await run.wait(timeout=10)
    assert run.state is RunState.FAILED and "upstream said 401" in (run.error or "")
    assert run.question == "What should a planner know about grid-scale battery storage?"
    found = Artifacts(f"config:{place}")
    _search_run(found, run, tmp_path, caplog)
    found.check(minimum=12)


@pytest.mark.parametrize("place", ["api_key", "bearer_header", "url_query", "api_key_env"])
async def test_a_key_held_by_a_local_agent_whose_endpoint_echoes_it_reaches_no_artifact(
    place: str,
    echo_url: str,
    key_env: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    manager: RunManager,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="deepsearch_nb")
    llm: dict[str, Any] = {"base_url": echo_url, "model": "m"}
    if place == "api_key":
        llm["api_key"] = KEY
    elif place == "bearer_header":
        llm["headers"] = {"Authorization": f"Bearer {KEY}"}
    elif place == "url_query":
        llm["base_url"] = f"{echo_url}?api_key={KEY}"
    else:
        llm["api_key_env"] = key_env
    agent = LocalResearchAgent(llm=llm)
    run = manager.start(agent, "grid batteries", agent_config=NO_STOPS)
    await run.wait(timeout=30)
    assert run.state is RunState.FAILED and "401" in (run.error or "")
    found = Artifacts(f"local-llm:{place}")
    _search_run(found, run, tmp_path, caplog)
    found.add("agent.spec()", agent.spec())
    found.add("repr(agent)", repr(agent))
    found.check(minimum=14)


class FailingCleanups:
    """An agent whose stream's ``finally`` and whose ``cleanup_session`` raise errors quoting the key."""

    kind = "failing-cleanups"

    def __init__(self, cancel: bool) -> None:
        self.cancel = cancel

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[Any]:
        try:
            if self.cancel:
                yield {"agent": "report", "event": "message", "content": "hi", "conversation_id": conversation_id}
                await asyncio.Event().wait()
            else:
                for chunk in report_round(["Text."]):
                    yield chunk
        finally:
            raise RuntimeError(f"closing failed for token {KEY}")

    async def cleanup_session(self, conversation_id: str) -> None:
        raise RuntimeError(f"session cleanup failed with key {KEY}")

    async def cancel_tasks(self, conversation_id: str) -> None:
        raise RuntimeError(f"cancel_tasks failed with key {KEY}")


@pytest.mark.parametrize("cancel", [False, True], ids=["finally-after-all-end", "cancelled"])
async def test_errors_of_an_agent_closing_or_cleaning_up_are_logged_without_the_key(
    cancel: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture, manager: RunManager
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="deepsearch_nb")
    run = manager.start(FailingCleanups(cancel), "grid batteries", agent_config={"llm_config": {"api_key": KEY}})
    if cancel:
        await until_chunks(run, 1)
        run.cancel()
    await run.wait(timeout=10)
    await manager.drain(timeout=5)
    found = Artifacts(f"cleanup:{'cancel' if cancel else 'end'}")
    _search_run(found, run, tmp_path, caplog)
    found.check(minimum=12)


def test_exception_texts_of_bad_settings_never_quote_the_key() -> None:
    found = Artifacts("exceptions")
    attempts: list[dict[str, Any]] = [
        {"base_url": f"ftp://llm.example/v1?api_key={KEY}", "model": "m"},
        {"base_url": f"http://127.0.0.1:9/v1?token={KEY}", "model": ""},
        {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": KEY, "headers": {"Authorization": 1}},
    ]
    for number, llm in enumerate(attempts):
        with pytest.raises(ConfigurationError) as caught:
            LocalResearchAgent(llm=llm)
        found.add(f"str(exception {number})", str(caught.value))
        found.add(f"repr(exception {number})", repr(caught.value))
    found.check(minimum=6)


# --- the CLI ----------------------------------------------------------------------------------------


def test_the_cli_writes_the_key_nowhere(echo_url: str, tmp_path: Path) -> None:
    out, transcript = tmp_path / "report.md", tmp_path / "transcript.jsonl"
    argv = [sys.executable, "-m", "deepsearch_nb.cli", "run", "grid batteries", "--no-hitl", "--no-input"]
    argv += ["--llm-base-url", echo_url, "--llm-model", "m", "--llm-api-key-env", ENV]
    argv += ["--config", json.dumps({"llm_config": {"api_key": KEY}, "auth": f"Bearer {KEY}"})]
    argv += ["--out", str(out), "--transcript", str(transcript)]
    env = {**os.environ, ENV: KEY, "PYTHONWARNINGS": "default"}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
    found = Artifacts("cli")
    found.add("stdout", result.stdout)
    found.add("stderr", result.stderr)
    found.add("--out", out.read_text(encoding="utf-8"))
    found.add("--transcript", transcript.read_text(encoding="utf-8"))
    assert result.returncode != 0 and "HTTP 401: Incorrect API key" in result.stderr  # the echo really happened
    found.check(minimum=4)


# --- the server ---------------------------------------------------------------------------------------


def _body(conversation: str, **extra: Any) -> dict[str, Any]:
    return {"space_id": "team", "conversation_id": conversation, "message": "grid batteries", **NO_STOPS, **extra}


async def test_the_server_answers_and_logs_no_key(
    echo_url: str, key_env: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, manager: RunManager
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="deepsearch_nb")
    local = LocalResearchAgent(llm={"base_url": echo_url, "model": "m", "api_key": KEY})

    def factory(request: Any) -> Any:
        return local if request.conversation_id.startswith("local") else EchoingAgent()

    found = Artifacts("server")
    path = "/api/v1/agent/deepsearch/run/"
    with LoopbackServer(create_app(factory), log_config=None, start_timeout=20) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=60) as client:
            for conversation in ("echo_1", "local_1"):
                body = _body(conversation, llm_config={"api_key": KEY, "base_url": f"https://x/?key={KEY}"})
                response = await client.post(path, json=body, headers={"Authorization": f"Bearer {KEY}"})
                found.add(f"stream {conversation}", f"{response.status_code} {response.headers} {response.text}")
            broken = _body("echo_2", llm_config={"api_key": KEY})
            del broken["message"]
            response = await client.post(path, json=broken)
            assert response.status_code == 422
            found.add("422 response", response.text)
            response = await client.post(path, content=json.dumps(_body("echo_3", llm_config=KEY))[:-5])
            found.add("400 response (truncated JSON)", f"{response.status_code} {response.text}")
            found.add("health", (await client.get("/api/health")).text)
        remote = RemoteAgent(served.url, space_id="team", request={"llm_config": {"api_key": KEY}})
        try:
            run = manager.start(remote, "grid batteries", agent_config=NO_STOPS)
            await run.wait(timeout=30)
            assert run.state is RunState.FAILED
            _search_run(found, run, tmp_path, caplog)  # logs of server and client so far included
        finally:
            await remote.aclose()
    found.check(minimum=16)


def test_zz_count_the_artifacts_searched() -> None:
    """Not a check of its own: prints how many artifacts the suite searched (``-s`` to see it)."""
    total = sum(SEARCHED.values())
    print(f"\nsecret_artifacts_searched={total} secret_hits=0 over {len(SEARCHED)} placements")
    assert total == 0 or total >= 50

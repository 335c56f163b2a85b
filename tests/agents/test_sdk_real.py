"""The SDK adapter against the real openJiuwen DeepSearch SDK, where it is installed.

The SDK is about 1 GB (``pip install 'deepsearch-nb[sdk]'``), so the suite that CI runs skips this file;
run it in an environment with the SDK. Its LLM is a socket on 127.0.0.1: a closed port (the SDK's own
error path) or a server that accepts and never answers (the SDK waits inside its LLM call).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("openjiuwen_deepsearch", reason="the openJiuwen SDK is not installed (the 'sdk' extra)")

from deepsearch_nb import OpenJiuwenAgent, RunManager, RunState

KEY = "sk-real-sdk-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(port: int) -> dict[str, Any]:
    return {
        "llm_config": {
            "general": {
                "model_name": "stub",
                "model_type": "openai",
                "base_url": f"http://127.0.0.1:{port}/v1",
                "api_key": KEY,
            }
        },
        "info_collector_search_method": "web",
        "web_search_engine_config": {"search_engine_name": "tavily", "search_api_key": "tvly-0123456789"},
    }


def _files_containing(root: Path, text: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and text in p.read_text(errors="replace")]


@pytest.fixture(autouse=True)
def _sdk_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LLM_SSL_VERIFY", "false")  # the stub LLM speaks plain http
    monkeypatch.chdir(tmp_path)  # the SDK writes its logs under ./logs


@pytest.fixture
async def silent_llm() -> AsyncIterator[int]:
    """A port whose server accepts connections and never answers."""
    release = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    release.set()
    server.close()
    await server.wait_closed()


async def test_the_sdks_own_failure_is_reported_without_the_key(manager: RunManager, tmp_path: Path) -> None:
    run = manager.start(OpenJiuwenAgent(_config(_free_port())), "What is grid-scale battery storage?")
    await asyncio.wait_for(run.wait(), 300)
    assert run.state is RunState.FAILED
    assert run.error is not None and "The agent reported an error: [" in run.error
    assert KEY not in run.error
    assert run.chunks[-1].is_all_end
    assert _files_containing(tmp_path, KEY) == []  # nor in the SDK's own logs


async def test_cancel_while_the_sdk_waits_on_its_llm(manager: RunManager, silent_llm: int) -> None:
    agent = OpenJiuwenAgent(_config(silent_llm))
    run = manager.start(agent, "What is grid-scale battery storage?")
    await asyncio.sleep(2)  # the SDK is now inside its LLM call
    assert run.state is RunState.RUNNING
    run.cancel()
    await asyncio.wait_for(run.wait(), 5)
    assert run.state is RunState.CANCELLED and not run.abandoned
    checkpointer = agent.sdk.checkpointers.get_checkpointer()
    assert not await checkpointer.session_exists(run.conversation_id)

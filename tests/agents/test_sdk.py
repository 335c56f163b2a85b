"""The openJiuwen SDK adapter against fake SDK modules at the real 0.1.11 import paths.

The real SDK is about 1 GB and needs an LLM; these fakes reproduce the behaviours the adapter exists
for: the SDK's own cancel_context, api keys zeroed after use, parameter errors before the first chunk,
a checkpointer that keeps sessions unless released.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import sys
import threading
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from deepsearch_nb import ConfigurationError, OpenJiuwenAgent, RunState
from deepsearch_nb._agents._sdk import _loader
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import all_end, chunk, final_result


class FakeSdk:
    def __init__(self) -> None:
        self.cancel_context: contextvars.ContextVar[asyncio.Event | None] = contextvars.ContextVar("cancel_event")
        self.keys_seen: list[bytes] = []
        self.released: list[str] = []
        self.sessions_released: list[str] = []
        self.created: list[dict[str, Any]] = []


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSdk]:
    fake = FakeSdk()
    warmed = threading.Thread(target=lambda: None)  # the fakes have no openjiuwen.agent_teams to pre-import
    warmed.start()
    warmed.join()
    monkeypatch.setattr(_loader, "_TEAMS", warmed)

    class Inner:
        async def release_session(self, conversation_id: str) -> None:
            fake.sessions_released.append(conversation_id)

    class DeepresearchAgent:
        agent = Inner()

        async def run(
            self, message: str, conversation_id: str, config: dict[str, Any], *rest: Any
        ) -> AsyncIterator[str]:
            if not message:
                raise ValueError("[200012] Parameter message is invalid")
            key = config["llm_config"]["general"]["api_key"]
            fake.keys_seen.append(bytes(key))
            key[:] = b"\0" * len(key)  # the SDK zeroes secrets after use
            for n in range(200):
                event = fake.cancel_context.get(None)
                if event is not None and event.is_set():  # the SDK's _raise_if_cancelled at an LLM boundary
                    raise asyncio.CancelledError("cancelled")
                if message == "slow":
                    await asyncio.sleep(0.01)
                yield json.dumps(chunk("sub_reporter", "message", f"t{n} "))
                if message != "slow" and n == 2:
                    break
            yield json.dumps(final_result("# R"))
            yield json.dumps(all_end())

    class AgentFactory:
        def create_agent(self, config: dict[str, Any]) -> DeepresearchAgent:
            if config.get("search_mode") not in ("research",):
                raise ValueError("[200000] execution agent not found")
            fake.created.append(config)
            return DeepresearchAgent()

    class _Defaults:
        def model_dump(self) -> dict[str, Any]:
            return {
                "search_mode": "research",
                "execution_method": "parallel",
                "llm_config": {"general": {"model_name": "", "api_key": bytearray()}},
                "workflow_human_in_the_loop": True,
            }

    class Config:
        agent_config = _Defaults()

    class Checkpointer:
        async def release(self, conversation_id: str) -> None:
            fake.released.append(conversation_id)

    class CheckpointerFactory:
        @classmethod
        def get_checkpointer(cls) -> Checkpointer:
            return Checkpointer()

    modules: dict[str, dict[str, Any]] = {
        "openjiuwen_deepsearch.framework.openjiuwen.agent.agent_factory": {"AgentFactory": AgentFactory},
        "openjiuwen_deepsearch.config.config": {"Config": Config},
        "openjiuwen_deepsearch.utils.constants_utils.session_contextvars": {"cancel_context": fake.cancel_context},
        "openjiuwen.core.session.checkpointer.checkpointer": {"CheckpointerFactory": CheckpointerFactory},
    }
    for name, attrs in modules.items():
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, name, module)
    yield fake


CONFIG = {
    "llm_config": {"general": {"model_name": "m", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-test-123456"}}
}


async def test_every_round_gets_fresh_keys_and_completes(manager: RunManager, sdk: FakeSdk) -> None:
    agent = OpenJiuwenAgent(CONFIG)
    for _ in range(2):
        run = manager.start(agent, "question")
        await run
        assert run.state is RunState.COMPLETED
    assert sdk.keys_seen == [b"sk-test-123456"] * 2  # not the zeroed bytes of the previous round
    assert len(sdk.created) == 1  # one cached agent per search_mode:execution_method
    assert CONFIG["llm_config"]["general"]["api_key"] == "sk-test-123456"  # the caller's config untouched


async def test_cancel_reaches_the_sdk_through_its_own_context(manager: RunManager, sdk: FakeSdk) -> None:
    agent = OpenJiuwenAgent(CONFIG)
    run = manager.start(agent, "slow")
    streaming = asyncio.Event()
    run.subscribe(lambda event: streaming.set() if len(run.chunks) >= 3 else None)
    await asyncio.wait_for(streaming.wait(), 5)
    run.cancel()
    await asyncio.wait_for(run.wait(), 1)
    assert run.state is RunState.CANCELLED and not run.abandoned
    assert sdk.released == [run.conversation_id]  # the SDK itself releases only on ALL END
    assert sdk.sessions_released == [run.conversation_id]
    assert sdk.cancel_context.get(None) is None  # reset after the round


async def test_sdk_errors_are_reported_in_words(manager: RunManager, sdk: FakeSdk) -> None:
    run = manager.start(OpenJiuwenAgent(CONFIG), "q")
    await run
    bad = manager.start(OpenJiuwenAgent({**CONFIG, "search_mode": "nope"}), "q")
    await bad
    assert bad.state is RunState.FAILED
    assert bad.error is not None and "The SDK refused the agent_config: [200000]" in bad.error
    agent = OpenJiuwenAgent(CONFIG)
    with pytest.raises(Exception, match="The SDK refused the request: \\[200012\\]"):
        async for _ in agent.run("", "conv"):
            pass


async def test_without_the_sdk_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openjiuwen_deepsearch", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'deepsearch-nb\[sdk\]'"):
        OpenJiuwenAgent(CONFIG).config_for_round()

"""Configuring ``OpenJiuwenAgent`` the way a person does, and rebuilding it from a report's spec.

Errors name the field and how to set it, and come at construction, before any request (finding 6);
keys come from environment variables and are never in a spec, a repr or an error; ``make_agent`` and
``agent_from_spec`` are what the CLI, ``%%deepsearch`` and ``reproduce()`` call (finding 3). None of
these tests imports the SDK or starts a round.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deepsearch_nb import ConfigurationError, LocalResearchAgent, OpenJiuwenAgent, RemoteAgent
from deepsearch_nb._agents._select import agent_from_spec, make_agent

URL = "http://127.0.0.1:9/v1"


@pytest.fixture(autouse=True)
def _no_ambient_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": URL}, r"model is not set: pass OpenJiuwenAgent\(model="),
        ({"model": "m"}, r"base_url None is not an http\(s\) URL: .*OPENAI_BASE_URL"),
        ({"model": "m", "base_url": "127.0.0.1:9"}, r"base_url '127.0.0.1:9' is not an http\(s\) URL"),
        (
            {"model": "m", "base_url": URL, "api_key_env": "NO_SUCH_KEY_VARIABLE"},
            r"NO_SUCH_KEY_VARIABLE, which is not set",
        ),
        ({"model": "m", "base_url": URL, "corpus": "/no/such/folder"}, r"corpus='/no/such/folder' does not exist"),
        ({"model": "m", "base_url": URL, "search": "bing"}, r"search must be 'corpus' or one of tavily"),
        (
            {"model": "m", "base_url": URL, "search": "tavily"},
            r"search='tavily' needs the tavily search key: pass search_api_key_env=",
        ),
        ({"model": "m", "base_url": URL, "max_sections": 40}, r"max_sections must be an integer from 1 to 15"),
        ({"model": "m", "base_url": URL, "model_type": "anthropic"}, r"model_type must be one of openai"),
    ],
)
def test_a_wrong_or_missing_field_is_named_before_any_request(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        OpenJiuwenAgent(**kwargs)  # type: ignore[arg-type]


def test_the_base_url_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", URL)
    assert OpenJiuwenAgent(model="m").settings.base_url == URL.rstrip("/")


def test_the_spec_names_the_key_variable_and_never_the_key(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nGrid batteries store energy for hours at a time.\n")
    agent = OpenJiuwenAgent(base_url=URL, model="m", corpus=tmp_path, outline_interaction=False, max_sections=3)
    spec = agent.spec()
    assert spec["kind"] == "openjiuwen-sdk"
    config = spec["config"]
    assert config["api_key_env"] == "OPENAI_API_KEY" and config["corpus"] == str(tmp_path.resolve())
    assert config["outline_interaction"] is False and config["max_sections"] == 3
    key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert agent.secret_values() == [key]
    assert key not in json.dumps(spec) and key not in repr(agent) and key not in repr(agent.settings)
    rebuilt = agent_from_spec(spec)
    assert isinstance(rebuilt, OpenJiuwenAgent) and rebuilt.spec() == spec


def test_rebuilding_asks_for_the_key_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = OpenJiuwenAgent(base_url=URL, model="m").spec()
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigurationError, match=r"environment variable OPENAI_API_KEY, which is not set"):
        agent_from_spec(spec)
    inline = OpenJiuwenAgent(base_url=URL, model="m", api_key="a-key-given-as-a-value").spec()
    assert inline["config"]["api_key"] == "***" and "a-key-given-as-a-value" not in json.dumps(inline)
    with pytest.raises(ConfigurationError, match=r"passed as a value, which is never saved.*api_key_env="):
        agent_from_spec({**inline, "config": {**inline["config"], "api_key_env": None}})
    monkeypatch.setenv("MY_KEY", "ffeeddccbbaa99887766554433221100")
    rebuilt = agent_from_spec(inline, api_key_env="MY_KEY")
    assert isinstance(rebuilt, OpenJiuwenAgent)
    assert rebuilt.secret_values() == ["ffeeddccbbaa99887766554433221100"]


def test_an_sdk_agent_config_is_kept_and_its_keys_held_apart() -> None:
    config: dict[str, Any] = {
        "llm_config": {"general": {"model_name": "m", "base_url": URL, "api_key": "abcdef0123456789abcdef"}},
        "outliner_max_section_num": 4,
    }
    agent = OpenJiuwenAgent(config)
    assert agent.settings.model == "m" and agent.secret_values() == ["abcdef0123456789abcdef"]
    assert agent.spec()["config"]["agent_config"] == {"llm_config": {"general": {}}, "outliner_max_section_num": 4}
    assert config["llm_config"]["general"]["api_key"] == "abcdef0123456789abcdef"  # the caller's dict untouched


def test_make_agent_builds_each_kind_and_says_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nGrid batteries store energy for hours at a time.\n")
    assert isinstance(make_agent("local", corpus=tmp_path), LocalResearchAgent)
    sdk = make_agent("sdk", corpus=tmp_path, llm_base_url=URL, llm_model="m")
    assert isinstance(sdk, OpenJiuwenAgent) and sdk.settings.corpus == str(tmp_path.resolve())
    assert isinstance(make_agent("remote", url="http://127.0.0.1:9"), RemoteAgent)
    with pytest.raises(ConfigurationError, match=r"needs an LLM: .*--llm-base-url URL --llm-model NAME"):
        make_agent("sdk")
    with pytest.raises(ConfigurationError, match=r"model is not set"):
        make_agent("sdk", llm_base_url=URL)
    with pytest.raises(ConfigurationError, match=r"needs the DeepSearch server's URL"):
        make_agent("remote")
    with pytest.raises(ConfigurationError, match=r"Unknown agent kind 'cloud': use one of local, sdk, remote"):
        make_agent("cloud")


def test_the_local_and_remote_agents_describe_themselves(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nGrid batteries store energy for hours at a time.\n")
    local = LocalResearchAgent(tmp_path, pacing=0.01)
    fingerprint = local.spec()["config"].pop("corpus_fingerprint")
    assert set(fingerprint["documents"]) == {"a.md"} and len(fingerprint["sha256"]) == 64
    assert local.spec()["config"] == {
        "corpus": str(tmp_path.resolve()),
        "corpus_fingerprint": fingerprint,
        "pacing": 0.01,
        "llm": None,
    }
    again = agent_from_spec(local.spec())
    assert isinstance(again, LocalResearchAgent) and again.spec() == local.spec()
    assert LocalResearchAgent().spec()["config"]["corpus"] is None  # the demo corpus, wherever it is installed
    remote = RemoteAgent("http://127.0.0.1:9", request={"llm_config": {"api_key": "abcdef0123456789"}})
    assert remote.spec() == {
        "kind": "remote",
        "config": {"url": "http://127.0.0.1:9", "space_id": "default", "request": {"llm_config": {"api_key": "***"}}},
    }
    with pytest.raises(ConfigurationError, match=r"kind 'replay', which cannot be rebuilt"):
        agent_from_spec({"kind": "replay", "config": {}})

"""Secrets never leave a run: redacting agent_config and scrubbing free text."""

from __future__ import annotations

import copy
from collections import OrderedDict
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from deepsearch_nb._secrets import MASK, is_secret_key, redact, scrub_text, secret_values

KEY = "sk-live-0123456789abcdefABCDEF"
SEARCH_KEY = "tvly-search-key-987654321"


def sdk_config() -> dict[str, Any]:
    """The shape of an openJiuwen agent_config: api keys as bytearray, nested slots, engine configs."""
    return {
        "execute_mode": "commercial",
        "llm_config": {
            "general": {
                "model_name": "qwen-plus",
                "base_url": "http://127.0.0.1:8000/v1",
                "api_key": bytearray(KEY.encode()),
                "hyper_parameters": {"temperature": 0.2, "max_tokens": 4096},
            },
            "writing_checking": {"model_name": "m", "API_KEY": KEY},
        },
        "web_search_engine_config": {"search_engine_name": "tavily", "search_api_key": bytearray(SEARCH_KEY.encode())},
        "knowledge_base_configs": [
            {"id": "kb", "vector_store": {"uri": "http://milvus:19530", "token": "milvus-token-1234"}},
        ],
        "outliner_max_section_num": 5,
    }


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "API_KEY",
        "apikey",
        "ApiKey",
        "llm_api_key",
        "search_api_key",
        "X-Api-Key",
        "token",
        "access_token",
        "secret",
        "client_secret",
        "password",
        "db_password",
        "Authorization",
        "credentials",
    ],
)
def test_secret_key_names_are_recognised(key: str) -> None:
    assert is_secret_key(key)
    assert redact({key: "value-1234"}) == {key: MASK}


@pytest.mark.parametrize(
    "key", ["max_tokens", "token_limit", "model_name", "base_url", "keyword", "tokenizer", "search_engine_name"]
)
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not is_secret_key(key)
    assert redact({key: "value"}) == {key: "value"}


def test_redact_masks_nested_secrets_and_bytes() -> None:
    out = redact(sdk_config())
    general = out["llm_config"]["general"]
    assert general["api_key"] == MASK
    assert general["model_name"] == "qwen-plus"
    assert general["hyper_parameters"] == {"temperature": 0.2, "max_tokens": 4096}
    assert out["llm_config"]["writing_checking"]["API_KEY"] == MASK
    assert out["web_search_engine_config"] == {"search_engine_name": "tavily", "search_api_key": MASK}
    assert out["knowledge_base_configs"][0]["vector_store"] == {"uri": "http://milvus:19530", "token": MASK}
    assert out["outliner_max_section_num"] == 5


def test_bytes_are_masked_under_any_key() -> None:
    assert redact({"blob": b"abc", "inner": [bytearray(b"x"), memoryview(b"y")]}) == {
        "blob": MASK,
        "inner": [MASK, MASK],
    }


def test_redact_never_mutates_its_input_and_shares_nothing() -> None:
    config = sdk_config()
    before = copy.deepcopy(config)
    out = redact(config)
    assert config == before
    assert config["llm_config"]["general"]["api_key"] == bytearray(KEY.encode())
    out["llm_config"]["general"]["hyper_parameters"]["temperature"] = 9
    out["knowledge_base_configs"].append("x")
    assert config == before


def test_redact_shapes() -> None:
    assert redact(None) == {}
    assert redact(MappingProxyType({"a": 1})) == {"a": 1}
    assert redact(OrderedDict(token="abcd")) == {"token": MASK}
    assert redact({"api_key": "", "token": None}) == {"api_key": "", "token": None}  # "no key set" stays visible
    assert redact({"api_key": ["k1-long", "k2-long"]}) == {"api_key": [MASK, MASK]}
    assert redact({"credentials": {"user": "u", "pass": "p"}}) == {"credentials": {"user": MASK, "pass": MASK}}
    assert redact({"pair": ("a", 1), 3: "x"}) == {"pair": ["a", 1], "3": "x"}  # type: ignore[dict-item]
    path = Path("corpus")
    assert redact({"corpus": path}) == {"corpus": path}  # non-JSON values are the caller's business


def test_url_passwords_are_masked() -> None:
    out = redact({"uri": "redis://user:hunter2secret@cache:6379/0", "plain": "http://host/a:b@c"})
    assert out["uri"] == f"redis://user:{MASK}@cache:6379/0"
    assert "hunter2secret" not in str(out)


def test_secret_values_lists_what_to_scrub() -> None:
    values = secret_values(sdk_config())
    assert set(values) == {KEY, SEARCH_KEY, "milvus-token-1234"}
    assert values == sorted(values, key=len, reverse=True)
    assert secret_values(None) == []
    assert secret_values({"api_key": "", "port": 8080}) == []
    assert "hunter2secret" in secret_values({"uri": "redis://u:hunter2secret@h/0"})


def test_scrub_text_removes_known_secrets() -> None:
    message = f"401 Unauthorized: invalid api key {KEY} (search key {SEARCH_KEY})"
    scrubbed = scrub_text(message, [KEY, SEARCH_KEY])
    assert KEY not in scrubbed and SEARCH_KEY not in scrubbed
    assert scrubbed == f"401 Unauthorized: invalid api key {MASK} (search key {MASK})"


def test_scrub_text_masks_the_longest_secret_first() -> None:
    assert scrub_text("token abcd-efgh-ijkl", ["abcd", "abcd-efgh-ijkl"]) == f"token {MASK}"


def test_scrub_text_accepts_bytes_and_ignores_tiny_secrets() -> None:
    assert scrub_text("key=bytes-secret-1", [bytearray(b"bytes-secret-1")]) == f"key={MASK}"
    assert scrub_text("a banana", ["a", "an", ""]) == "a banana"
    assert scrub_text("", [KEY]) == ""


def test_scrub_text_masks_credentials_it_was_not_told_about() -> None:
    text = "Authorization: Bearer eyJhbGciOi.J9abc-123_x; key sk-ABCDEFGHIJ0123456789; db postgres://me:pw1234@db/x"
    scrubbed = scrub_text(text)
    assert "eyJhbGciOi.J9abc-123_x" not in scrubbed
    assert "sk-ABCDEFGHIJ0123456789" not in scrubbed
    assert "pw1234" not in scrubbed
    assert f"Bearer {MASK}" in scrubbed


@pytest.mark.parametrize(
    "prose",
    [
        "a bearer of bad news",
        "Basic understanding of thermodynamics is assumed.",
        "basic infrastructure-investments matter",
        "the task-oriented-dialogue-systems survey",
        "see sk-learn-compatible-estimators",
    ],
)
def test_scrub_text_leaves_prose_alone(prose: str) -> None:
    assert scrub_text(prose) == prose

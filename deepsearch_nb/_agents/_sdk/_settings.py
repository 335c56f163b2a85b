"""What a person configures, and the SDK ``agent_config`` built from it for every round.

A person says where the LLM is (``base_url``, ``model``), which environment variable holds its key
(``api_key_env``, ``OPENAI_API_KEY`` by default), what to search (``corpus=`` a folder of documents, or
a web engine with its key variable) and the two HITL switches. Everything is checked here, before any
request, with errors that name the field and say how to set it. Keys are read from the environment
once, at construction, and never written anywhere: :meth:`SdkSettings.spec` records the *name* of the
variable, so a report can rebuild the agent in another session that has the same variable set.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..._errors import ConfigurationError
from ..._secrets import MASK, redact, secret_values

__all__ = ["CORPUS_SEARCH", "WEB_ENGINES", "SdkSettings", "merge"]

CORPUS_SEARCH = "corpus"
"""``search=`` value for the project's local document search (the SDK's ``custom`` web engine)."""

WEB_ENGINES = ("tavily", "google", "serper", "xunfei", "petal", "bocha", "jina", "perplexity", "agc_ainetworking")
_MODEL_TYPES = ("openai", "siliconflow")
_SECRET_KEYS = frozenset({"api_key", "search_api_key"})


@dataclass(frozen=True)
class SdkSettings:
    """The whole configuration of an :class:`OpenJiuwenAgent`; keys are held apart and never shown."""

    base_url: str
    model: str
    model_type: str = "openai"
    api_key_env: str | None = "OPENAI_API_KEY"
    search: str = CORPUS_SEARCH
    corpus: str | None = None  # absolute path; None is the shipped demo corpus
    search_api_key_env: str | None = None
    search_url: str = ""
    human_in_the_loop: bool = True
    outline_interaction: bool = True
    max_sections: int | None = None
    source_tracing: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # agent_config keys merged over the rest
    api_key: str = field(default="", repr=False, compare=False)
    search_api_key: str = field(default="", repr=False, compare=False)
    inline_keys: tuple[str, ...] = ()  # which keys were passed as values, not read from a variable

    @classmethod
    def build(
        cls,
        agent_config: Mapping[str, Any] | None,
        *,
        base_url: str | None,
        model: str | None,
        model_type: str,
        api_key_env: str | None,
        api_key: str | None,
        search: str | None,
        corpus: str | Path | None,
        search_api_key_env: str | None,
        search_api_key: str | None,
        search_url: str,
        human_in_the_loop: bool,
        outline_interaction: bool,
        max_sections: int | None,
        source_tracing: bool,
    ) -> SdkSettings:
        """Check every field and read the keys; raises :class:`ConfigurationError` naming what to fix."""
        extra = copy.deepcopy(dict(agent_config or {}))
        general = _general_llm(extra)
        base_url = base_url or general.pop("base_url", None) or os.environ.get("OPENAI_BASE_URL") or None
        model = model or general.pop("model_name", None) or None
        model_type = general.pop("model_type", None) or model_type
        inline: list[str] = []
        given_key = general.pop("api_key", None)
        if isinstance(given_key, bytes | bytearray):
            given_key = bytes(given_key).decode("utf-8", errors="replace")
        if api_key is None and given_key:
            api_key = str(given_key)
        if not model or not isinstance(model, str):
            raise ConfigurationError(
                "The LLM model is not set: pass OpenJiuwenAgent(model='...'), the model name your endpoint serves "
                "(or agent_config['llm_config']['general']['model_name'])."
            )
        if not base_url or not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"The LLM base_url {base_url!r} is not an http(s) URL: pass "
                "OpenJiuwenAgent(base_url='http://host:port/v1') or set the environment variable OPENAI_BASE_URL."
            )
        if model_type not in _MODEL_TYPES:
            raise ConfigurationError(f"model_type must be one of {', '.join(_MODEL_TYPES)}, not {model_type!r}.")
        key = _read_key("the LLM key", "api_key_env", api_key_env, api_key)
        if api_key:
            inline.append("api_key")
        search, corpus, search_url = _search_fields(extra, search, corpus, search_url)
        search_key = ""
        if search != CORPUS_SEARCH:
            web = extra.get("web_search_engine_config") or {}
            if search_api_key is None and isinstance(web, Mapping) and web.get("search_api_key"):
                raw = web["search_api_key"]
                search_api_key = bytes(raw).decode() if isinstance(raw, bytes | bytearray) else str(raw)
            if search_api_key is None and search_api_key_env is None:
                raise ConfigurationError(
                    f"search={search!r} needs the {search} search key: pass search_api_key_env='THE_VARIABLE' that "
                    "holds it (or search a local folder with corpus=...)."
                )
            search_key = _read_key(f"the {search} search key", "search_api_key_env", search_api_key_env, search_api_key)
            if search_api_key:
                inline.append("search_api_key")
        for name, flag in (("human_in_the_loop", human_in_the_loop), ("outline_interaction", outline_interaction)):
            if not isinstance(flag, bool):
                raise ConfigurationError(f"{name} must be True or False, not {flag!r}.")
        if max_sections is not None and (
            isinstance(max_sections, bool) or not isinstance(max_sections, int) or not 1 <= max_sections <= 15
        ):
            raise ConfigurationError(f"max_sections must be an integer from 1 to 15 (or None), not {max_sections!r}.")
        web = extra.get("web_search_engine_config")
        if isinstance(web, dict):
            web.pop("search_api_key", None)  # held apart, like the LLM key: a merge must not put it back
        return cls(
            base_url=base_url.rstrip("/"),
            model=model,
            model_type=model_type,
            api_key_env=api_key_env,
            search=search,
            corpus=corpus,
            search_api_key_env=search_api_key_env if search != CORPUS_SEARCH else None,
            search_url=search_url,
            human_in_the_loop=human_in_the_loop,
            outline_interaction=outline_interaction,
            max_sections=max_sections,
            source_tracing=bool(source_tracing),
            extra=extra,
            api_key=key,
            search_api_key=search_key,
            inline_keys=tuple(inline),
        )

    def secrets(self) -> list[str]:
        """Every key held, for scrubbing: the LLM key, the search key, and any left in ``extra``."""
        found = [k for k in (self.api_key, self.search_api_key) if k]
        return sorted({*found, *secret_values(self.extra)}, key=lambda s: (-len(s), s))

    def spec_config(self) -> dict[str, Any]:
        """The config a report records: every field, keys only as the name of their variable (or ``***``)."""
        config: dict[str, Any] = {
            "base_url": self.base_url,
            "model": self.model,
            "model_type": self.model_type,
            "api_key_env": self.api_key_env,
            "search": self.search,
            "corpus": self.corpus,
            "search_api_key_env": self.search_api_key_env,
            "search_url": self.search_url,
            "human_in_the_loop": self.human_in_the_loop,
            "outline_interaction": self.outline_interaction,
            "max_sections": self.max_sections,
            "source_tracing": self.source_tracing,
            "agent_config": redact(self.extra),
        }
        for name in self.inline_keys:
            config[name] = MASK  # passed as a value: the report says so, and reproduce() asks for a variable
        return config

    def sdk_config(self, defaults: Mapping[str, Any], search_plugin: tuple[str, str, str] | None) -> dict[str, Any]:
        """A fresh SDK ``agent_config`` for one round: the SDK's defaults, these settings, then ``extra``."""
        config = copy.deepcopy(dict(defaults))
        llm = {"model_name": self.model, "model_type": self.model_type, "base_url": self.base_url}
        llm["api_key"] = self.api_key or "EMPTY"  # the OpenAI client refuses an empty key; keyless servers ignore it
        config["llm_config"] = {"general": llm}
        config["workflow_human_in_the_loop"] = self.human_in_the_loop
        config["outline_interaction_enabled"] = self.outline_interaction
        if self.max_sections is not None:
            config["outliner_max_section_num"] = self.max_sections
        for switch in (
            "source_tracer_research_trace_source_switch",
            "source_tracer_generated_citation_switch",
            "source_tracer_infer_switch",
        ):
            config[switch] = self.source_tracing
        web = dict(config.get("web_search_engine_config") or {})
        if self.search == CORPUS_SEARCH and search_plugin is not None:
            path, func, key = search_plugin
            web.update(search_engine_name="custom", search_api_key="", search_url="", extension={"corpus_key": key})
            config["custom_web_search_config"] = {"custom_web_search_file": path, "custom_web_search_func": func}
        else:
            web.update(search_engine_name=self.search, search_api_key=self.search_api_key, search_url=self.search_url)
        config["web_search_engine_config"] = web
        config.setdefault("info_collector_search_method", "web")
        # The SDK sums its model client's usage per SDK agent into the final result's
        # workflow_llm_token_usage only with this switch on (off by default): the report's tokens.
        config["stats_info_llm"] = True
        merge(config, self.extra)
        fresh: dict[str, Any] = fresh_secrets(config)
        return fresh


def _general_llm(extra: dict[str, Any]) -> dict[str, Any]:
    llm = extra.get("llm_config")
    if not isinstance(llm, dict):
        return {}
    general = llm.get("general")
    if not isinstance(general, dict):
        return {}
    return general


def _read_key(what: str, field_name: str, env: str | None, value: str | None) -> str:
    if value is not None:
        if not isinstance(value, str):
            raise ConfigurationError(f"The value for {what} must be a string.")
        return value
    if env is None:
        return ""
    if not isinstance(env, str) or not env:
        raise ConfigurationError(f"{field_name} must name an environment variable (or be None), not {env!r}.")
    key = os.environ.get(env, "")
    if not key:
        raise ConfigurationError(
            f"{what} is read from the environment variable {env}, which is not set: set it before starting Jupyter "
            f"(export {env}=...) or in the notebook (os.environ[{env!r}] = ...), or pass {field_name}='OTHER_VARIABLE'"
            f" ({field_name}=None for an endpoint without a key)."
        )
    return key


def _search_fields(
    extra: dict[str, Any], search: str | None, corpus: str | Path | None, search_url: str
) -> tuple[str, str | None, str]:
    web = extra.get("web_search_engine_config")
    configured = web.get("search_engine_name") if isinstance(web, Mapping) else None
    if search is None:
        search = CORPUS_SEARCH if corpus is not None or configured in (None, "custom") else str(configured)
    if search == CORPUS_SEARCH:
        if corpus is None:
            return CORPUS_SEARCH, None, ""
        path = Path(corpus).expanduser().resolve()
        if not path.exists():
            raise ConfigurationError(f"corpus={str(corpus)!r} does not exist: pass a folder (or file) of documents.")
        return CORPUS_SEARCH, str(path), ""
    if corpus is not None:
        raise ConfigurationError(
            f"corpus= is searched with search='corpus'; it cannot be combined with search={search!r}."
        )
    if search not in WEB_ENGINES:
        raise ConfigurationError(f"search must be 'corpus' or one of {', '.join(WEB_ENGINES)}, not {search!r}.")
    url = search_url or (str(web.get("search_url") or "") if isinstance(web, Mapping) else "")
    return search, None, url


def merge(target: dict[str, Any], updates: Mapping[str, Any]) -> None:
    """Deep-merge ``updates`` into ``target`` (dicts merge, everything else replaces)."""
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def fresh_secrets(value: Any) -> Any:
    """A copy with every key as a new ``bytearray``: the SDK zeroes keys after use, so each round needs its own."""
    if isinstance(value, dict):
        return {
            k: bytearray(v.encode() if isinstance(v, str) else v)
            if k in _SECRET_KEYS and isinstance(v, str | bytes | bytearray)
            else fresh_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [fresh_secrets(v) for v in value]
    return value

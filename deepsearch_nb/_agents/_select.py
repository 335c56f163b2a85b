"""Building an agent from a kind and a few fields: what ``--agent``, ``%%deepsearch`` and ``reproduce()`` call.

:func:`make_agent` is the front ends' factory (``local``, ``sdk``, ``remote``); :func:`agent_from_spec`
rebuilds the agent a report recorded (:meth:`SupportsSpec.spec`), reading keys from the environment
variables the spec names, so a saved report never needs to hold one. Both refuse with a
:class:`ConfigurationError` that names the missing or wrong field and says how to set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError
from .._secrets import MASK
from ._base import Agent, AgentSpec

__all__ = ["AGENT_KINDS", "agent_from_spec", "make_agent", "without_masked"]

AGENT_KINDS = ("local", "sdk", "remote")
"""The kinds :func:`make_agent` builds."""

# What each agent's ``kind`` attribute (and so a report's ``agent.kind``) says.
_SPEC_KINDS = {"local": "local", "openjiuwen-sdk": "sdk", "sdk": "sdk", "remote": "remote"}


def make_agent(
    kind: str,
    *,
    corpus: str | Path | None = None,
    pacing: float = 0.0,
    llm_base_url: str | None = None,
    llm_model: str | None = None,
    llm_api_key_env: str | None = None,
    search: str | None = None,
    search_api_key_env: str | None = None,
    url: str | None = None,
    token_env: str | None = None,
    human_in_the_loop: bool = True,
    outline_interaction: bool = True,
    agent_config: Mapping[str, Any] | None = None,
    sources: list[object] | None = None,
) -> Agent:
    """An agent of ``kind``: ``"local"`` (offline, ``corpus``/``pacing``, optional LLM writer), ``"sdk"``
    (the openJiuwen SDK: ``llm_base_url``, ``llm_model``, key from ``llm_api_key_env`` (default
    ``OPENAI_API_KEY``), search over ``corpus`` or ``search=`` a web engine) or ``"remote"`` (a
    DeepSearch server at ``url``, with the bearer token from the variable ``token_env``; by default
    ``DEEPSEARCH_NB_TOKEN`` when it is set)."""
    if kind == "local":
        from ._local import LocalResearchAgent

        llm = _local_llm(llm_base_url, llm_model, llm_api_key_env)
        return LocalResearchAgent(corpus, pacing=pacing, llm=llm, sources=sources)
    if kind == "sdk":
        from ._sdk import OpenJiuwenAgent

        if llm_base_url is None and llm_model is None and not agent_config:
            raise ConfigurationError(
                "The sdk agent needs an LLM: give its base URL and model (--llm-base-url URL --llm-model NAME, "
                "or llm_base_url=/llm_model=); the key is read from OPENAI_API_KEY (or --llm-api-key-env)."
            )
        return OpenJiuwenAgent(
            agent_config,
            base_url=llm_base_url,
            model=llm_model,
            # None: the default variable; "": an endpoint without a key
            api_key_env="OPENAI_API_KEY" if llm_api_key_env is None else (llm_api_key_env or None),
            corpus=corpus,
            search=search,
            search_api_key_env=search_api_key_env,
            human_in_the_loop=human_in_the_loop,
            outline_interaction=outline_interaction,
            sources=sources,
        )
    if kind == "remote":
        if sources is not None:
            raise ConfigurationError("A remote agent searches the server's documents; sources= is for local and sdk.")
        if not url:
            raise ConfigurationError("The remote agent needs the DeepSearch server's URL (--url or url=).")
        from ._remote import RemoteAgent

        return RemoteAgent(url, request=agent_config, **_remote_token(token_env))
    raise ConfigurationError(f"Unknown agent kind {kind!r}: use one of {', '.join(AGENT_KINDS)}.")


TOKEN_ENV = "DEEPSEARCH_NB_TOKEN"


def _remote_token(token_env: str | None, *, required: bool = False) -> dict[str, Any]:
    """``token=``/``token_env=`` for a RemoteAgent: read from the named variable (which must be set), or from
    ``DEEPSEARCH_NB_TOKEN`` when that is set and none is named."""
    import os

    name = token_env or TOKEN_ENV
    token = os.environ.get(name)
    if not token:
        if token_env or required:
            raise ConfigurationError(f"The server's token is read from {name}, which is not set: set it first.")
        return {}
    return {"token": token, "token_env": name}


def _local_llm(base_url: str | None, model: str | None, key_env: str | None) -> dict[str, Any] | None:
    if base_url is None and model is None:
        return None
    import os

    llm: dict[str, Any] = {"base_url": base_url, "model": model}
    if key_env:
        key = os.environ.get(key_env)
        if not key:
            raise ConfigurationError(f"The LLM key is read from {key_env}, which is not set: set it first.")
        llm["api_key"] = key
    return llm


def agent_from_spec(spec: AgentSpec | Mapping[str, Any], **overrides: Any) -> Agent:
    """The agent a report recorded, rebuilt; keys come from the environment variables the spec names.

    ``overrides`` replace recorded fields (e.g. ``api_key_env="MY_KEY"`` when the report's agent had its
    key passed inline). Raises :class:`ConfigurationError` for an unknown kind, a spec without the
    fields needed, or a key whose variable is not set (saying which variable to set).
    """
    if not isinstance(spec, Mapping) or not isinstance(spec.get("kind"), str):
        raise ConfigurationError(f"Not an agent spec (a dict with 'kind' and 'config'): {spec!r}.")
    recorded = spec["kind"]
    kind = _SPEC_KINDS.get(recorded)
    config = dict(spec.get("config") or {})
    config.update(overrides)
    if config.get("sources"):
        raise ConfigurationError(
            f"The report was researched from the notebook's own data ({', '.join(map(str, config['sources']))}), "
            "which a report does not hold: rebuild the agent with those sources and pass it, "
            "reproduce(report, agent=LocalResearchAgent(sources=[...]))."
        )
    if kind is None:
        raise ConfigurationError(
            f"The report's agent is of kind {recorded!r}, which cannot be rebuilt from its spec; "
            "pass the agent yourself (reproduce(report, agent=...))."
        )
    if kind == "local":
        from ._local import LocalResearchAgent

        llm = config.get("llm")
        if isinstance(llm, Mapping) and MASK in llm.values():
            key_env = config.get("llm_api_key_env")
            if not key_env:
                raise ConfigurationError(
                    "The report's local agent used an LLM key, which is never saved: put it in an environment "
                    "variable and rebuild with llm_api_key_env='THAT_VARIABLE'."
                )
            llm = _local_llm(llm.get("base_url"), llm.get("model"), str(key_env))
        return LocalResearchAgent(config.get("corpus"), pacing=float(config.get("pacing") or 0.0), llm=llm)
    if kind == "remote":
        from ._remote import RemoteAgent

        if not config.get("url"):
            raise ConfigurationError("The report's remote agent has no 'url'; pass reproduce(report, agent=...).")
        space_id = str(config.get("space_id") or "default")
        token = _remote_token(config.get("token_env"), required=bool(config.get("token_env")))
        request = without_masked(config.get("request") or {})
        return RemoteAgent(str(config["url"]), space_id=space_id, request=request, **token)
    return _sdk_from_spec(config)


def _sdk_from_spec(config: dict[str, Any]) -> Agent:
    from ._sdk import OpenJiuwenAgent

    for name, env_field in (("api_key", "api_key_env"), ("search_api_key", "search_api_key_env")):
        if config.pop(name, None) == MASK and not config.get(env_field):
            raise ConfigurationError(
                f"The report's agent had its {name} passed as a value, which is never saved: put the key in an "
                f"environment variable and rebuild with {env_field}='THAT_VARIABLE'."
            )
    known = {
        "base_url",
        "model",
        "model_type",
        "api_key_env",
        "corpus",
        "search",
        "search_api_key_env",
        "search_url",
        "human_in_the_loop",
        "outline_interaction",
        "max_sections",
        "source_tracing",
    }
    unknown = sorted(set(config) - known - {"agent_config"})
    if unknown:
        raise ConfigurationError(f"The report's sdk agent config has fields this version does not know: {unknown}.")
    kwargs = {k: v for k, v in config.items() if k in known}
    if kwargs.get("search") == "corpus" and kwargs.get("corpus") is None:
        kwargs.pop("corpus", None)
    return OpenJiuwenAgent(without_masked(config.get("agent_config") or {}), **kwargs)


def without_masked(value: Any) -> Any:
    """A config without the ``"***"`` placeholders redaction left (they would override real keys)."""
    if isinstance(value, Mapping):
        return {k: without_masked(v) for k, v in value.items() if v != MASK}
    if isinstance(value, list):
        return [without_masked(v) for v in value if v != MASK]
    return value

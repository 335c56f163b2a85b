"""The real openJiuwen DeepSearch SDK as an :class:`Agent` (``pip install 'deepsearch-nb[sdk]'``).

What the adapter adds to calling ``DeepresearchAgent.run`` directly (protocol reference §3.3):
* the run's cancel event is put into the SDK's own ``cancel_context`` inside the iterating task, before
  the first iteration, so the SDK's LLM-boundary checks see it;
* the config is rebuilt for every round from the SDK's defaults, with string keys turned into fresh
  ``bytearray``s (the SDK zeroes them after use, so a reused config would send empty keys);
* ``cleanup_session`` releases the checkpointer and the agent's session, which the SDK does only on
  ``ALL END`` or its own exception path, not when a round is cancelled or abandoned;
* the SDK's parameter errors (raised before the first chunk) become :class:`InvalidInputError`.

Agents are cached per ``search_mode:execution_method``, like the DeepSearch server does.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from .._errors import ConfigurationError, InvalidInputError
from ._base import ChunkLike, cancel_context

__all__ = ["OpenJiuwenAgent"]

_SECRET_KEYS = frozenset({"api_key", "search_api_key"})


class _Sdk:
    """The few SDK entry points the adapter uses, imported on first use (importing takes seconds)."""

    def __init__(self) -> None:
        try:
            factory = importlib.import_module("openjiuwen_deepsearch.framework.openjiuwen.agent.agent_factory")
            config = importlib.import_module("openjiuwen_deepsearch.config.config")
            contextvars = importlib.import_module("openjiuwen_deepsearch.utils.constants_utils.session_contextvars")
            checkpointer = importlib.import_module("openjiuwen.core.session.checkpointer.checkpointer")
        except ImportError as exc:
            raise ConfigurationError(
                f"The openJiuwen SDK is not installed ({exc.name}): pip install 'deepsearch-nb[sdk]'."
            ) from None
        self.agent_factory = factory.AgentFactory()
        self.default_config: dict[str, Any] = config.Config().agent_config.model_dump()
        self.cancel_context = contextvars.cancel_context
        self.checkpointers = checkpointer.CheckpointerFactory


class OpenJiuwenAgent:
    """Research with the openJiuwen DeepSearch SDK; ``agent_config`` is merged over the SDK's defaults."""

    kind = "openjiuwen-sdk"

    def __init__(self, agent_config: Mapping[str, Any] | None = None) -> None:
        self.agent_config = dict(agent_config or {})
        self._sdk: _Sdk | None = None
        self._agents: dict[str, Any] = {}

    @property
    def sdk(self) -> _Sdk:
        if self._sdk is None:
            self._sdk = _Sdk()
        return self._sdk

    def config_for_round(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A fresh config: SDK defaults, then this agent's config, then the round's overrides."""
        config = copy.deepcopy(self.sdk.default_config)
        _merge(config, self.agent_config)
        _merge(config, dict(overrides or {}))
        fresh: dict[str, Any] = _fresh_secrets(config)
        return fresh

    def _agent_for(self, config: Mapping[str, Any]) -> Any:
        key = f"{config.get('search_mode', 'research')}:{config.get('execution_method', 'parallel')}"
        if key not in self._agents:
            try:
                self._agents[key] = self.sdk.agent_factory.create_agent(dict(config))
            except ValueError as exc:  # CustomValueException derives from ValueError
                raise ConfigurationError(f"The SDK refused the agent_config: {exc}") from None
        return self._agents[key]

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[ChunkLike]:
        config = self.config_for_round(agent_config)
        agent = self._agent_for(config)
        token = self.sdk.cancel_context.set(cancel_context.get())  # in the iterating task, before iterating
        stream = agent.run(message, conversation_id, config, report_template, interrupt_feedback)
        try:
            try:
                first = await anext(stream)
            except StopAsyncIteration:
                return
            except ValueError as exc:  # validation runs before the first yield
                raise InvalidInputError(f"The SDK refused the request: {exc}") from None
            yield first
            async for chunk in stream:
                yield chunk
        finally:
            await stream.aclose()
            self.sdk.cancel_context.reset(token)

    async def cleanup_session(self, conversation_id: str) -> None:
        """Release the checkpointer's copy of the conversation and each cached agent's session."""
        await self.sdk.checkpointers.get_checkpointer().release(conversation_id)
        for agent in self._agents.values():
            inner = getattr(agent, "agent", None)
            release = getattr(inner, "release_session", None)
            if release is not None:
                await release(conversation_id)

    async def cancel_tasks(self, conversation_id: str) -> None:
        """Cancel controller-level tasks where the SDK has them (the legacy controller; 0.1.11 has none)."""
        for agent in self._agents.values():
            controller = getattr(getattr(agent, "agent", None), "controller", None)
            queue = getattr(controller, "task_queue", None)
            cancel = getattr(queue, "cancel_running_task", None)
            if cancel is not None:
                await cancel(conversation_id)


def _merge(target: dict[str, Any], updates: Mapping[str, Any]) -> None:
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _fresh_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: bytearray(v.encode() if isinstance(v, str) else v)
            if k in _SECRET_KEYS and isinstance(v, str | bytes | bytearray)
            else _fresh_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_fresh_secrets(v) for v in value]
    return value

"""The few ``agent_config`` keys the local agent reads, with the SDK's defaults and ranges.

Every other key of an SDK ``agent_config`` (LLM, search engines, tracing switches ...) is ignored, so the
same config dict can drive the real SDK and this agent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..._errors import ConfigurationError

__all__ = ["LocalSettings", "parse_settings"]


@dataclass(frozen=True, slots=True)
class LocalSettings:
    """What one conversation runs with."""

    human_in_the_loop: bool = True  # workflow_human_in_the_loop: ask clarification questions
    outline_interaction: bool = True  # outline_interaction_enabled: stop for outline review
    max_rounds: int = 3  # outline_interaction_max_rounds, 1..100
    max_sections: int = 5  # outliner_max_section_num, 1..15 (the SDK's default is 10; 5 reads better offline)
    pacing: float = 0.0  # local_pacing_s: seconds per streamed token


def _flag(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigurationError(f"agent_config[{key!r}] must be true or false, not {value!r}.")
    return value


def _int(config: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"agent_config[{key!r}] must be an integer from {low} to {high}, not {value!r}.")
    return value


def parse_settings(config: object, default_pacing: float) -> LocalSettings:
    """Read the settings from an ``agent_config``; raises :class:`ConfigurationError` naming the bad key."""
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise ConfigurationError(f"agent_config must be a dict (or None), not {type(config).__name__}.")
    pacing = config.get("local_pacing_s", default_pacing)
    if pacing is None:
        pacing = default_pacing
    if isinstance(pacing, bool) or not isinstance(pacing, int | float) or not math.isfinite(pacing) or pacing < 0:
        raise ConfigurationError(f"agent_config['local_pacing_s'] must be a number of seconds >= 0, not {pacing!r}.")
    return LocalSettings(
        human_in_the_loop=_flag(config, "workflow_human_in_the_loop", True),
        outline_interaction=_flag(config, "outline_interaction_enabled", True),
        max_rounds=_int(config, "outline_interaction_max_rounds", 3, 1, 100),
        max_sections=_int(config, "outliner_max_section_num", 5, 1, 15),
        pacing=float(pacing),
    )

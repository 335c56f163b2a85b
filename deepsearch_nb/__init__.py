"""deepsearch_nb: run and steer openJiuwen DeepSearch research agents from Jupyter.

Layers, each a private subpackage, data flowing one way (agent -> runtime -> ui):
``_protocol`` (stream models), ``_agents`` (the Agent seam and adapters), ``_runtime`` (the run
manager), ``_ui`` (panel and persistent report). This module re-exports the curated public API.

The notebook layer and the agent adapters are imported on first use: the CLI, the server and code
that only reads saved reports do not pay for ipywidgets, numpy or httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._agents import Agent, cancel_context, raise_if_cancelled
from ._errors import (
    AgentError,
    ConfigurationError,
    DeepSearchError,
    HitlTimeout,
    InvalidInputError,
    RemoteAgentError,
    RunNotFound,
    RunStateError,
)
from ._labextension import _jupyter_labextension_paths as _jupyter_labextension_paths
from ._protocol import (
    Chunk,
    FinalResult,
    HitlAnswer,
    HitlRequest,
    HitlStage,
    InterruptFeedback,
    MalformedChunk,
    Outline,
    Source,
    StreamEvent,
    parse_chunk,
)
from ._runtime import (
    CancelOutcome,
    LocalCancelBus,
    ManagerStats,
    RedisCancelBus,
    Run,
    RunEvent,
    RunManager,
    RunState,
    default_manager,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._agents._local import DEMO_ANSWERS, DEMO_QUESTION, LocalResearchAgent
    from ._agents._remote import RemoteAgent
    from ._agents._replay import ReplayAgent
    from ._agents._sdk import OpenJiuwenAgent
    from ._ui import REPORT_MIME, Report, ResearchHandle, reproduce, research, research_sync, stats

_LAZY = {
    "DEMO_ANSWERS": "._agents._local",
    "DEMO_QUESTION": "._agents._local",
    "LocalResearchAgent": "._agents._local",
    "OpenJiuwenAgent": "._agents._sdk",
    "REPORT_MIME": "._ui",
    "RemoteAgent": "._agents._remote",
    "ReplayAgent": "._agents._replay",
    "Report": "._ui",
    "ResearchHandle": "._ui",
    "reproduce": "._ui",
    "research": "._ui",
    "research_sync": "._ui",
    "stats": "._ui",
}

__all__ = [
    "DEMO_ANSWERS",
    "DEMO_QUESTION",
    "REPORT_MIME",
    "Agent",
    "AgentError",
    "CancelOutcome",
    "Chunk",
    "ConfigurationError",
    "DeepSearchError",
    "FinalResult",
    "HitlAnswer",
    "HitlRequest",
    "HitlStage",
    "HitlTimeout",
    "InterruptFeedback",
    "InvalidInputError",
    "LocalCancelBus",
    "LocalResearchAgent",
    "MalformedChunk",
    "ManagerStats",
    "OpenJiuwenAgent",
    "Outline",
    "RedisCancelBus",
    "RemoteAgent",
    "RemoteAgentError",
    "ReplayAgent",
    "Report",
    "ResearchHandle",
    "Run",
    "RunEvent",
    "RunManager",
    "RunNotFound",
    "RunState",
    "RunStateError",
    "Source",
    "StreamEvent",
    "__version__",
    "cancel_context",
    "default_manager",
    "load_ipython_extension",
    "parse_chunk",
    "raise_if_cancelled",
    "reproduce",
    "research",
    "research_sync",
    "stats",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext deepsearch_nb``: registers the ``%%deepsearch`` cell magic."""
    from ._magics import load_ipython_extension as load

    load(ipython)

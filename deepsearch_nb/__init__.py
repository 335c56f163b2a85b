"""deepsearch_nb: run and steer openJiuwen DeepSearch research agents from Jupyter.

Layers, each a private subpackage, data flowing one way (agent -> runtime -> ui):
``_protocol`` (stream models), ``_agents`` (the Agent seam and adapters), ``_runtime`` (the run
manager), ``_ui`` (panel and persistent report). This module re-exports the curated public API.
"""

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

__all__ = [
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
    "MalformedChunk",
    "ManagerStats",
    "Outline",
    "RedisCancelBus",
    "RemoteAgentError",
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
    "parse_chunk",
    "raise_if_cancelled",
]

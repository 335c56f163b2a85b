"""Layer 2, the agents: the ``Agent`` seam and its adapters."""

from ._base import (
    Agent,
    AgentSpec,
    ChunkLike,
    SupportsSecrets,
    SupportsSessionCleanup,
    SupportsSpec,
    SupportsTaskCancel,
    cancel_context,
    raise_if_cancelled,
)

__all__ = [
    "Agent",
    "AgentSpec",
    "ChunkLike",
    "SupportsSecrets",
    "SupportsSessionCleanup",
    "SupportsSpec",
    "SupportsTaskCancel",
    "cancel_context",
    "raise_if_cancelled",
]

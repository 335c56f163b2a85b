"""Layer 2, the agents: the ``Agent`` seam and its adapters."""

from ._base import (
    Agent,
    ChunkLike,
    SupportsSessionCleanup,
    SupportsTaskCancel,
    cancel_context,
    raise_if_cancelled,
)

__all__ = [
    "Agent",
    "ChunkLike",
    "SupportsSessionCleanup",
    "SupportsTaskCancel",
    "cancel_context",
    "raise_if_cancelled",
]

"""Layer 5, the notebook UI: the live panel, ``research()`` and the ``%%deepsearch`` magic.

Imports are lazy: ``import deepsearch_nb`` must not load ipywidgets, anywidget and IPython, which only
the live panel needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._panel import ResearchPanel
    from ._research import (
        HEADLESS_ANSWER_TIMEOUT_S,
        ResearchHandle,
        ResearchOptions,
        reproduce,
        research,
        research_sync,
        stats,
    )
    from ._resume import resume

__all__ = [
    "HEADLESS_ANSWER_TIMEOUT_S",
    "ResearchHandle",
    "ResearchOptions",
    "ResearchPanel",
    "reproduce",
    "research",
    "research_sync",
    "resume",
    "stats",
]

_WHERE = dict.fromkeys(__all__, "._research") | {"ResearchPanel": "._panel", "resume": "._resume"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value

"""Layer 4, the notebook UI: the live panel, the ``research()`` helper and the persistent report.

Imports are lazy: reading or rendering a saved report (``_document``, ``_render``) must not load
ipywidgets, anywidget and IPython, which only the live panel needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._document import REPORT_MIME, Report, report_document
    from ._helper import HEADLESS_ANSWER_TIMEOUT_S, ResearchHandle, reproduce, research, research_sync, stats
    from ._panel import ResearchPanel
    from ._render import report_bundle

__all__ = [
    "HEADLESS_ANSWER_TIMEOUT_S",
    "REPORT_MIME",
    "Report",
    "ResearchHandle",
    "ResearchPanel",
    "report_bundle",
    "report_document",
    "reproduce",
    "research",
    "research_sync",
    "stats",
]

_WHERE = {
    "HEADLESS_ANSWER_TIMEOUT_S": "._helper",
    "REPORT_MIME": "._document",
    "Report": "._document",
    "ResearchHandle": "._helper",
    "ResearchPanel": "._panel",
    "report_bundle": "._render",
    "report_document": "._document",
    "reproduce": "._helper",
    "research": "._helper",
    "research_sync": "._helper",
    "stats": "._helper",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value

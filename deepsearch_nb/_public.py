"""Exported objects report their public home as ``__module__`` (as httpx does), so reprs, docs,
tracebacks and pickles name ``deepsearch_nb.runtime.RunManager``, not a private module that may move."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["publish_module"]


def publish_module(module: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class and function in ``names`` that is still private to ``module``."""
    for name in names:
        obj = namespace.get(name)
        current = getattr(obj, "__module__", None)
        if not isinstance(current, str) or not current.startswith("deepsearch_nb"):
            continue  # constants and foreign objects
        if not any(part.startswith("_") for part in current.split(".")):
            continue  # already published elsewhere: its public home wins
        if isinstance(obj, type) or callable(obj):
            try:
                obj.__module__ = module
            except (AttributeError, TypeError):  # builtins and some C types do not allow it
                continue

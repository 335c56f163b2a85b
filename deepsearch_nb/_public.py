"""Exported objects report their public home as ``__module__`` (as httpx does), so reprs, docs,
tracebacks and pickles name ``deepsearch_nb.runtime.RunManager``, not a private module that may move."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_attributes", "publish_module"]


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


def lazy_attributes(module: str, where: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing each name of ``where`` (name -> absolute module) on first use.

    Heavy parts (numpy, ipywidgets, httpx, the SDK) load only when a name that needs them is asked for;
    the value is then cached in the module's namespace, so later lookups skip the hook.
    """

    def __getattr__(name: str) -> Any:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        publish_module(module, {name: value}, [name])
        namespace[name] = value
        return value

    return __getattr__

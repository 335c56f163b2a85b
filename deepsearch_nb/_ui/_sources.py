"""Naming the notebook's data in citations: ``sources=[df]`` cites ``df.loc[42]``, not ``sources[0].loc[42]``.

A DataFrame or a string does not know the variable it is bound to, so ``research(sources=[df, notes])``
looks each one up (by identity) among the notebook's variables; ``%%deepsearch --sources df,notes.md``
resolves each name there first and reads the others as paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .._agents._local._frames import Frame, frame, is_frame_like
from .._agents._local._sources import TextSource
from .._errors import ConfigurationError
from . import _ipython

__all__ = ["named_sources", "sources_from_names"]


def _names_by_identity(namespace: Mapping[str, Any]) -> dict[int, str]:
    found: dict[int, str] = {}
    for name, value in namespace.items():
        if name.startswith("_") or not (is_frame_like(value) or isinstance(value, str)):
            continue
        found.setdefault(id(value), name)  # the first name bound to it (IPython keeps insertion order)
    return found


def named_sources(items: object, namespace: Mapping[str, Any] | None = None) -> list[object]:
    """``items`` with each DataFrame and text string given the name of the variable holding it."""
    listed: Sequence[object] = items if isinstance(items, list | tuple) else [items]
    names = _names_by_identity(_ipython.user_namespace() if namespace is None else namespace)
    out: list[object] = []
    for item in listed:
        if is_frame_like(item):
            out.append(frame(item, name=names.get(id(item))))
        elif isinstance(item, Frame) and item.name is None:
            out.append(replace(item, name=names.get(id(item.data))))
        elif isinstance(item, str) and id(item) in names and ("\n" in item or " " in item):
            out.append(TextSource(item, names[id(item)]))  # a variable holding text, not a path literal
        else:
            out.append(item)
    return out


def sources_from_names(text: str, namespace: Mapping[str, Any] | None = None) -> list[object]:
    """``--sources df,notes.md``: each name of a notebook variable is its value, anything else a path."""
    namespace = _ipython.user_namespace() if namespace is None else namespace
    out: list[object] = []
    for word in (w.strip() for w in text.split(",")):
        if not word:
            continue
        if word.isidentifier() and word in namespace:
            value = namespace[word]
            if is_frame_like(value):
                out.append(frame(value, name=word))
            elif isinstance(value, Frame):
                out.append(value if value.name else replace(value, name=word))
            elif isinstance(value, str) and ("\n" in value or " " in value):
                out.append(TextSource(value, word))
            else:
                out.append(value)  # a Path or list: load_sources says what it accepts
        else:
            out.append(word)
    if not out:
        raise ConfigurationError("--sources is empty: name notebook variables or paths, e.g. --sources df,notes.md.")
    return out

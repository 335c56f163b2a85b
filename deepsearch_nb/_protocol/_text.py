"""Text entering the system is valid Unicode and chunks are JSON: the one gate for both.

A Python ``str`` may hold lone surrogates (``"\\ud800"``, or the valid JSON escape ``"\\\\ud800"``
decoded by ``json.loads``), which UTF-8 cannot encode: accepted silently, they make ``report.save()``,
the notebook's MIME bundle, ``Chunk.to_wire()`` and the server's stream raise ``UnicodeEncodeError``
long after the text arrived, far from its cause. So text is repaired where it enters (chunks, the
question, HITL answers): a surrogate pair becomes the character it encodes and a lone surrogate becomes
U+FFFD, the replacement character every UTF-8 decoder uses for the same damage.

A chunk is relayed, saved and replayed as JSON, so a chunk that cannot be JSON (a circular dict, a
``datetime`` or a ``set`` in an extra key, ``NaN``) is refused where it arrives rather than breaking
every later consumer: :func:`clean_json` says why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["NotJson", "clean_json", "has_surrogates", "is_clean_flat", "repair_text"]

_SURROGATE = re.compile("[\ud800-\udfff]")
# What may decode to a surrogate: one itself, or a JSON \uD800-\uDFFF escape (pairs included, so that
# an ASCII-escaped emoji goes the slow, repairing way; a false positive only costs time).
_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_MAX_DEPTH = 200  # deeper than any real chunk; keeps the walk from exhausting the stack


class NotJson(ValueError):
    """A value that JSON cannot carry; ``str()`` says where (``extra.when``) and what."""


def has_surrogates(raw: str) -> bool:
    """Whether ``raw`` (text or JSON text) may hold a surrogate once decoded: the parser's fast test."""
    if "\\u" in raw and _ESCAPE.search(raw) is not None:
        return True
    return not raw.isascii() and _SURROGATE.search(raw) is not None


def is_clean_flat(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` is a flat dict of text keys and JSON scalars, all text valid: the shape of nearly
    every chunk, checked much faster than :func:`clean_json` walks (the parser's fast path)."""
    for key, value in data.items():
        if type(key) is not str or not (key.isascii() or _SURROGATE.search(key) is None):
            return False
        kind = type(value)
        if kind is str:
            if not value.isascii() and _SURROGATE.search(value) is not None:
                return False
        elif kind is float:
            if not math.isfinite(value):
                return False
        elif not (value is None or kind is int or kind is bool):
            return False  # nested, or not JSON: the full walk decides
    return True


def repair_text(text: str) -> str:
    """``text`` as valid Unicode: surrogate pairs joined, lone surrogates replaced by U+FFFD.

    Returns ``text`` itself (no copy) when it is already valid, which is nearly always.
    """
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_json(value: Any) -> Any:
    """``value`` with every string (keys too, at any depth) repaired, if JSON can carry it.

    Tuples become lists. Raises :class:`NotJson` for a circular reference, a key that is not text, a
    value of another type than str, int, float, bool, None, list or dict, a NaN or an infinity, or
    nesting deeper than 200 levels.
    """
    return _clean(value, "", set(), 0)


def _clean(value: Any, where: str, path: set[int], depth: int) -> Any:
    if isinstance(value, str):
        return repair_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJson(f"{where or 'chunk'}: {value!r} is not a JSON number")
        return value
    if not isinstance(value, Mapping | list | tuple):
        raise NotJson(f"{where or 'chunk'}: a {type(value).__name__} is not a JSON value")
    if depth >= _MAX_DEPTH:
        raise NotJson(f"{where or 'chunk'}: nested deeper than {_MAX_DEPTH} levels")
    if id(value) in path:
        raise NotJson(f"{where or 'chunk'}: circular reference")
    path.add(id(value))
    try:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise NotJson(f"{where or 'chunk'}: the key {key!r} is not text")
                name = repair_text(key)
                out[name] = _clean(item, f"{where}.{name}" if where else name, path, depth + 1)
            return out
        return [_clean(item, f"{where}[{i}]", path, depth + 1) for i, item in enumerate(value)]
    finally:
        path.discard(id(value))

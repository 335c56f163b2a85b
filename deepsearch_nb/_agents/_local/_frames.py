"""A pandas DataFrame (or Series) as documents: one row, one document, cited as ``df.loc[42]``.

An analyst's survey answers or incident reports are already in a DataFrame; writing them out as files to
research them loses the row they came from. Here each row becomes a document whose text is the chosen
text column, whose title is the chosen title column (if any), and whose other columns are kept as one
closing "fields" paragraph (``score: 4.5; region: EU.``) so numbers stay quotable. The document's URL is
the expression that selects the row again, ``df.loc[42]``, so a citation names the DataFrame and the
row's index label.

pandas is never imported here: a DataFrame is recognised by its type's module and read through its
public methods, so the package does not depend on pandas.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..._errors import ConfigurationError
from ._text import normalize_space

__all__ = ["Frame", "FrameRow", "frame", "is_frame_like", "row_reference"]

_TEXTY_WORDS = 4  # a column whose values average this many words is prose, not an id or a category
_SAMPLE = 200  # rows sampled to tell text columns from the others


@dataclass(frozen=True, slots=True)
class Frame:
    """A DataFrame chosen as a research source, with the columns that hold each row's text and title.

    Made by :func:`frame`; ``name`` is how citations name it (``df`` in ``df.loc[42]``).
    """

    data: Any
    text: str | None = None
    title: str | None = None
    name: str | None = None

    def __repr__(self) -> str:
        shape = getattr(self.data, "shape", ("?", "?"))
        return f"frame({self.name or 'DataFrame'}: {shape[0]} rows, text={self.text!r}, title={self.title!r})"


@dataclass(frozen=True, slots=True)
class FrameRow:
    """One row read as a document: its reference, title, paragraphs, and a hash input."""

    reference: str  # df.loc[42]
    title: str
    paragraphs: tuple[str, ...]


def frame(data: Any, *, text: str | None = None, title: str | None = None, name: str | None = None) -> Frame:
    """Research a pandas DataFrame (or Series): one row, one document.

    ``text``: the column with each row's text (default: the DataFrame's single column of prose; a
    DataFrame with several asks you to choose). ``title``: a column to title each row with (default: the
    row reference, ``df.loc[42]``; the source's URL is that reference either way). The other columns are
    kept in the document as ``column: value`` (numbers included).
    ``name``: how citations name the DataFrame (``df`` in ``df.loc[42]``); ``research()`` finds the
    variable's name in the notebook when it is not given.
    """
    if not is_frame_like(data):
        raise ConfigurationError(
            f"frame() takes a pandas DataFrame or Series, not {type(data).__name__}; "
            "pass strings, paths and folders to sources= directly."
        )
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ConfigurationError(f"frame(name=...) must be a non-empty string, not {name!r}.")
    data = _as_frame(data)
    columns = [str(c) for c in data.columns]
    for option, column in (("text", text), ("title", title)):
        if column is not None and column not in columns:
            raise ConfigurationError(
                f"frame({option}={column!r}): the DataFrame has no column {column!r}; its columns are {_listing(data)}."
            )
    return Frame(data, text, title, name)


def is_frame_like(value: object) -> bool:
    """A pandas DataFrame or Series (told by its type, without importing pandas)."""
    kind = type(value)
    return kind.__module__.split(".")[0] == "pandas" and kind.__name__ in ("DataFrame", "Series")


def _as_frame(data: Any) -> Any:
    if type(data).__name__ == "Series":
        return data.to_frame(name=str(data.name) if data.name is not None else "text")
    return data


def _listing(data: Any) -> str:
    return ", ".join(f"{c} ({data[c].dtype})" for c in data.columns) or "(none)"


def text_column(source: Frame) -> str:
    """The column holding each row's text: the chosen one, else the single column of prose."""
    data = source.data
    if source.text is not None:
        return source.text
    strings = [str(c) for c in data.columns if _share_of_strings(data[c]) >= 0.8]
    if len(strings) > 1:
        prose = [c for c in strings if _mean_words(data[c]) >= _TEXTY_WORDS]
        strings = prose if prose else strings
    name = source.name or "the DataFrame"
    if not strings:
        raise ConfigurationError(
            f"{name} has no text column to research: its columns are {_listing(data)}. Research a column of "
            "text with deepsearch_nb.frame(df, text='COLUMN'), or convert one first (df['notes'].astype(str))."
        )
    if len(strings) > 1:
        raise ConfigurationError(
            f"{name} has several text columns ({', '.join(strings)}): choose one with "
            f"deepsearch_nb.frame(df, text={strings[0]!r}, title=...)."
        )
    return strings[0]


def _sample(column: Any) -> list[Any]:
    return [v for v in column.head(_SAMPLE).tolist() if not _missing(v)]


def _share_of_strings(column: Any) -> float:
    values = _sample(column)
    return sum(isinstance(v, str) for v in values) / len(values) if values else 0.0


def _mean_words(column: Any) -> float:
    values = [v for v in _sample(column) if isinstance(v, str)]
    return sum(len(v.split()) for v in values) / len(values) if values else 0.0


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def row_reference(name: str, label: object) -> str:
    """``df.loc[42]`` (``df.loc['a-7']`` for a string label), safe inside a Markdown link's ``(...)``."""
    label = _plain(label)
    shown = repr(label) if isinstance(label, str) else str(label)
    return f"{name}.loc[{shown}]".replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``4`` rather than ``np.int64(4)``)."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__.split(".")[0] == "numpy":
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


def _field(column: str, value: Any) -> str:
    value = _plain(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        shown = str(int(value))
    else:
        shown = normalize_space(str(value))
    return f"{column}: {shown}"


def rows(source: Frame, name: str) -> Iterator[FrameRow]:
    """The rows of ``source`` as documents, in the DataFrame's order; rows without text are left out."""
    data = source.data
    text = text_column(source)
    others = [str(c) for c in data.columns if str(c) not in (text, source.title)]
    texts: Sequence[Any] = data[text].tolist()
    titles: Sequence[Any] = data[source.title].tolist() if source.title is not None else [None] * len(texts)
    fields = {c: data[c].tolist() for c in others}
    for i, label in enumerate(data.index.tolist()):
        value = texts[i]
        if _missing(value) or not str(value).strip():
            continue
        reference = row_reference(name, label)
        paragraphs = [normalize_space(p) for p in str(value).split("\n\n") if p.strip()]
        kept = [_field(c, fields[c][i]) for c in others if not _missing(fields[c][i])]
        if kept:
            paragraphs.append("; ".join(kept) + ".")
        head = titles[i]
        title = reference if _missing(head) else normalize_space(str(_plain(head))) or reference
        yield FrameRow(reference, title, tuple(paragraphs))

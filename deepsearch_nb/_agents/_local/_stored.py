"""The documents of a saved index, each unmarshalled the first time it is used.

A second agent on an unchanged folder of 100,000 documents spent most of its start building 100,000
``Document`` objects (1.7 million strings and tuples, and then a garbage collection over all of them) that
a question mostly never touches: a search scores the bm25s matrix, and only its hits are read. So a cache
entry stores each document as its own :mod:`marshal` record, with a table of where each record starts;
the file is memory-mapped (pages are read when touched, and stay valid if the entry is pruned meanwhile)
and :class:`StoredDocuments` is the ``Corpus.documents`` sequence over it. Iterating it (a title query of
the whole corpus, a scope check) reads every record, as the tuple of a fresh build would have held them.
"""

from __future__ import annotations

import itertools
import marshal
import mmap
import operator
import sys
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, overload

from ._corpus import Document

__all__ = ["StoredDocuments", "write_documents"]


def write_documents(documents: Sequence[Document], records: BinaryIO, offsets: BinaryIO) -> None:
    """One marshal record per document (path, title, url, paragraphs, sentences) and the start of each,
    then the end of the last, as little-endian 64-bit integers."""
    starts = array("q", [0])
    at = 0
    for doc in documents:
        record = marshal.dumps((doc.path, doc.title, doc.url, doc.paragraphs, doc.sentences))
        records.write(record)
        at += len(record)
        starts.append(at)
    if sys.byteorder == "big":
        starts.byteswap()
    offsets.write(starts.tobytes())


class StoredDocuments(Sequence[Document]):
    """``Corpus.documents`` of a cached index: equal to (and usable as) the tuple a fresh build makes."""

    __slots__ = ("_loaded", "_offsets", "_records", "_where")

    def __init__(self, records: Path, offsets: Path) -> None:
        starts = array("q")
        starts.frombytes(offsets.read_bytes())  # a length that is no multiple of 8 raises: a damaged entry
        if sys.byteorder == "big":
            starts.byteswap()
        with records.open("rb") as handle:
            size = handle.seek(0, 2)
            if len(starts) < 2 or starts[0] != 0 or starts[-1] != size:
                raise ValueError(f"{offsets.name} does not describe {records.name}")
            view = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
        if any(b < a for a, b in itertools.pairwise(starts)):  # (a few ms for 100,000)
            raise ValueError(f"{offsets.name} is not in order")
        self._records = view
        self._offsets = starts
        self._loaded: list[Document | None] = [None] * (len(starts) - 1)
        self._where = str(records)

    def __len__(self) -> int:
        return len(self._loaded)

    @overload
    def __getitem__(self, index: int) -> Document: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Document, ...]: ...

    def __getitem__(self, index: int | slice) -> Document | tuple[Document, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        doc = self._loaded[index]  # (raises IndexError as a tuple does; a negative index counts from the end)
        if doc is None:
            number = operator.index(index) % len(self._loaded)
            doc = self._loaded[number] = self._read(number)
        return doc

    def _read(self, number: int) -> Document:
        try:
            fields = marshal.loads(self._records[self._offsets[number] : self._offsets[number + 1]])
            path, title, url, paragraphs, sentences = fields
            if not all(isinstance(x, str) for x in (path, title, url)):
                raise TypeError("a document's path, title and url are strings")
            if not isinstance(paragraphs, tuple) or not isinstance(sentences, tuple):
                raise TypeError("a document's paragraphs and sentences are tuples")
        except (EOFError, ValueError, TypeError) as exc:
            raise RuntimeError(
                f"the saved index {self._where} is damaged (document {number}: {exc}); delete that folder "
                "and construct the agent again to index the corpus afresh"
            ) from None
        return Document(number, path, title, url, paragraphs, sentences)

    def __iter__(self) -> Iterator[Document]:
        return (self[i] for i in range(len(self._loaded)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))  # as the tuple it equals

    def __reduce__(self) -> tuple[type[tuple[Document, ...]], tuple[tuple[Document, ...]]]:
        return tuple, (tuple(self),)  # pickled or deep-copied: the plain tuple (a mapping does not travel)

    def __repr__(self) -> str:
        return f"<{len(self)} documents of the saved index {self._where}>"

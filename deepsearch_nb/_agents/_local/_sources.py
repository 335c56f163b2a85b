"""The notebook's own data as research sources: DataFrames, strings, files and folders, indexed together.

``research(question, sources=[df, "notes.md", text, "reports/"])`` researches what the analyst already has
without writing it out as files first. Each item becomes documents of one :class:`Corpus`, so the local
agent (and the SDK agent's corpus search) retrieve, quote and cite them as they do a folder:

- a DataFrame or Series (or :func:`frame` of one): a row, a document, cited as ``df.loc[42]``;
- a path (``str`` or ``Path``) that exists: the file or folder read by the corpus loader (Markdown, text,
  HTML, PDF), cited by the path as written (``reports/q3.md``);
- any other string: text, one document, cited by its variable's name (or ``sources[2]``).

A string that looks like a path (ends with ``/`` or a document suffix, no spaces) but does not exist is an
error rather than a one-line "document": a typo in a file name should not research the file's name.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..._errors import ConfigurationError
from ._corpus import SUPPORTED_SUFFIXES, Corpus, Document, _read_plain, load_corpus
from ._fingerprint import _file_hash
from ._frames import Frame, frame, is_frame_like, rows
from ._text import split_sentences

__all__ = ["Sources", "TextSource", "load_sources"]

_MAX_PATH = 4096


@dataclass(frozen=True, slots=True)
class TextSource:
    """A string researched as one document; ``name`` (its variable's) is how citations name it."""

    text: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Sources:
    """The corpus built from a list of sources, its fingerprint, and one line describing each source."""

    corpus: Corpus
    fingerprint: dict[str, Any]
    described: tuple[str, ...]

    @property
    def description(self) -> str:
        """What a report's provenance shows as the corpus: ``sources: df (1000 rows), reports/ (3 files)``."""
        return "sources: " + ", ".join(self.described)


@dataclass
class _Builder:
    documents: list[Document] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    described: list[str] = field(default_factory=list)

    def add(self, path: str, title: str, url: str, paragraphs: tuple[str, ...], digest: str) -> bool:
        """Add one document; ``path`` is a file's (relative to the working directory) or "" for in-memory
        data (a row, a string), whose citations then carry the text itself for the citation check."""
        sentences = tuple(s for p in paragraphs for s in split_sentences(p))
        if not sentences:
            return False
        self.documents.append(Document(len(self.documents), path, title, url, paragraphs, sentences))
        self.hashes[path or url] = digest
        return True


def load_sources(items: Sequence[object]) -> Sources:
    """One corpus of every item of ``items`` (see the module docstring for what each kind becomes).

    Raises :class:`ConfigurationError` naming the item that cannot be read: a DataFrame without a text
    column (with the columns it has), a missing path, a value of another type, or no document at all.
    """
    if isinstance(items, str | bytes | os.PathLike) or is_frame_like(items) or not isinstance(items, Sequence):
        items = [items]
    if not items:
        raise ConfigurationError("sources= is empty; give DataFrames, strings, files or folders to research.")
    built = _Builder()
    for position, item in enumerate(items):
        _add_item(built, item, f"sources[{position}]")
    if not built.documents:
        raise ConfigurationError(f"sources= holds no text to research ({', '.join(built.described)}).")
    listing = "".join(f"{path}\0{digest}\n" for path, digest in sorted(built.hashes.items()))
    fingerprint = {"sha256": hashlib.sha256(listing.encode("utf-8")).hexdigest(), "documents": built.hashes}
    corpus = Corpus(Path.cwd().resolve(), tuple(built.documents), tuple(built.skipped))
    return Sources(corpus, fingerprint, tuple(built.described))


def _add_item(built: _Builder, item: object, fallback: str) -> None:
    if is_frame_like(item):
        item = frame(item)
    if isinstance(item, Frame):
        _add_frame(built, item, item.name or fallback)
        return
    if isinstance(item, TextSource):
        _add_text(built, item.text, item.name or fallback)
        return
    if isinstance(item, os.PathLike):
        _add_path(built, Path(item).expanduser(), os.fspath(item))
        return
    if isinstance(item, str):
        path = _as_path(item)
        if path is None:
            _add_text(built, item, fallback)
        else:
            _add_path(built, path, item)
        return
    raise ConfigurationError(
        f"{fallback} is a {type(item).__name__}; sources= takes pandas DataFrames (or deepsearch_nb.frame(df, "
        "text=..., title=...)), strings of text, and paths of files or folders."
    )


def _as_path(text: str) -> Path | None:
    """The path ``text`` names when it exists; None for text; an error for a path that is not there."""
    if "\n" in text or len(text) > _MAX_PATH or not text.strip():
        return None
    path = Path(text).expanduser()
    try:
        if path.exists():
            return path
    except (OSError, ValueError):  # a name too long for the file system, a NUL character: text
        return None
    looks_like_path = text.endswith(("/", os.sep)) or (
        path.suffix.lower() in SUPPORTED_SUFFIXES and not any(c.isspace() for c in text)
    )
    if looks_like_path:
        raise ConfigurationError(
            f"sources: {text!r} looks like a path but does not exist (the working directory is {os.getcwd()!r}); "
            "fix the path, or wrap text that only looks like one in a longer string."
        )
    return None


def _add_frame(built: _Builder, source: Frame, name: str) -> None:
    count = 0
    for row in rows(source, name):
        digest = hashlib.sha256("\n\n".join((row.title, *row.paragraphs)).encode("utf-8")).hexdigest()
        count += built.add("", row.title, row.reference, row.paragraphs, digest)
    empty = len(source.data) - count
    if empty:
        built.skipped.append((name, f"{empty} rows without text"))
    built.described.append(f"{name} ({count} row{'s' if count != 1 else ''})")


def _add_text(built: _Builder, text: str, name: str) -> None:
    title, url, paragraphs = _read_plain(text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if not built.add("", title or name, url or quote(name, safe="/[]'\""), paragraphs, digest):
        built.skipped.append((name, "no text"))
    built.described.append(name)


def _add_path(built: _Builder, path: Path, written: str) -> None:
    corpus = load_corpus(path)  # raises for a path without readable documents, naming it
    prefix = written.rstrip("/" + os.sep) + "/" if path.is_dir() else ""
    cwd = Path.cwd().resolve()
    for doc in corpus.documents:
        shown = prefix + doc.path if prefix else written
        url = quote(shown, safe="/") if doc.url == quote(doc.path, safe="/") else doc.url
        file = (corpus.root / doc.path).resolve()
        # under the working directory: the citation check reads the file again; elsewhere, the text as read
        where = file.relative_to(cwd).as_posix() if file.is_relative_to(cwd) else ""
        built.add(where, doc.title, url, doc.paragraphs, _file_hash(file))
    built.skipped.extend(corpus.skipped)
    files = len(corpus.documents)
    built.described.append(f"{written} ({files} file{'s' if files != 1 else ''})" if path.is_dir() else written)

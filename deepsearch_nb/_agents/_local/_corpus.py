"""Loading a folder of documents into plain-text paragraphs and sentences.

The agent quotes sentences verbatim and cites the document they come from, so a document is reduced to
what a reader sees (no markup, no headings) and split once, at load time. Files are read in path order so
that document numbers, retrieval ties and therefore the report do not depend on the file system.

A file with a text suffix is not always text (an image renamed ``.txt``, a database dump under
``notes.md``): read as text it would put NUL and control characters into quoted sentences and the
report. Such files are skipped with a warning that names them (``Corpus.skipped`` keeps the list).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from urllib.parse import quote

from ..._errors import ConfigurationError
from ._html import SOURCE_LINE as _SOURCE_LINE
from ._html import read_html as _read_html
from ._text import normalize_space, split_sentences

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Corpus",
    "Document",
    "NotText",
    "corpus_files",
    "demo_corpus_path",
    "load_corpus",
    "read_corpus",
    "read_document",
    "read_text",
]

_log = logging.getLogger("deepsearch_nb.local_agent")

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
_MAX_BYTES = 20 * 1024 * 1024  # a larger file is almost certainly not a document meant for the corpus
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)")
# C0 controls and DEL other than tab, newline, carriage return and form feed: never in prose.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, *range(0x0E, 0x20), 0x7F])  # the same, as bytes
_MAX_CONTROL_SHARE = 0.01  # a text file may carry a stray control character; a binary one carries many


class NotText(ValueError):
    """A file that is not readable text (NUL bytes, not UTF-8, mostly control characters)."""


def demo_corpus_path() -> Path:
    """The shipped demo corpus (package data, see ``deepsearch_nb/data/corpus``)."""
    return Path(__file__).resolve().parents[2] / "data" / "corpus"


@dataclass(frozen=True, slots=True)
class Document:
    """One document as the agent sees it: plain text split into paragraphs and sentences."""

    doc_id: int
    path: str  # POSIX path relative to the corpus root
    title: str
    url: str  # the ``source:`` link, else ``path``; either way safe inside a Markdown link's ``(...)``
    paragraphs: tuple[str, ...]
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True, slots=True)
class Corpus:
    """The documents of one folder, numbered in path order."""

    root: Path
    documents: Sequence[Document]  # a tuple, or the lazily read documents of a saved index (``_stored``)
    skipped: tuple[tuple[str, str], ...] = ()  # (path, why) of files that were not readable text

    def __len__(self) -> int:
        return len(self.documents)

    def by_url(self, url: str) -> Document | None:
        return next((d for d in self.documents if d.url == url), None)


def load_corpus(path: str | Path | None) -> Corpus:
    """Read every supported document under ``path`` (the demo corpus for ``None``).

    Files and folders whose name starts with ``.`` or ``_`` are skipped, so a corpus can carry notes
    about itself. PDF needs the optional ``pypdf``; without it PDFs are skipped. Files that are not
    text are skipped with a warning naming them.
    """
    return read_corpus(path)[0]


def read_corpus(path: str | Path | None) -> tuple[Corpus, dict[str, str]]:
    """:func:`load_corpus`, and the SHA-256 of each document's bytes as read, by its path (PDFs, which
    ``pypdf`` reads itself, have none): the fingerprint's hashes without reading every file a second time."""
    if path is not None and not isinstance(path, str | os.PathLike):
        raise ConfigurationError(
            "corpus must be the path of a folder (or one file) of .md, .txt, .html or .pdf documents, as a "
            f"str or pathlib.Path, or None for the shipped demo corpus; not {type(path).__name__}."
        )
    root = demo_corpus_path() if path is None else Path(path).expanduser()
    if not root.exists():
        raise ConfigurationError(f"The corpus path {str(root)!r} does not exist; pass a folder of documents.")
    if root.is_file():
        base, files = root.parent, [(root.name, str(root))]
    else:
        base, files = root, [(rel, entry.path) for rel, entry in corpus_files(root)]
    documents: list[Document] = []
    digests: dict[str, str] = {}
    skipped: list[tuple[str, str]] = []
    for rel, file in files:
        try:
            parsed, data = _parse_file(file, os.path.splitext(rel)[1].lower())
        except NotText as exc:
            skipped.append((file, str(exc)))
            _log.warning("corpus: skipped %s: %s", file, exc)
            continue
        if parsed is None:
            continue
        title, url, paragraphs = parsed
        sentences = tuple(s for p in paragraphs for s in split_sentences(p))
        if not sentences:
            continue
        url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29") if url else quote(rel, safe="/")
        title = title or _title_from_name(Path(file))
        documents.append(Document(len(documents), rel, title, url, paragraphs, sentences))
        if data is not None:
            digests[rel] = hashlib.sha256(data).hexdigest()
    if not documents:
        kinds = ", ".join(SUPPORTED_SUFFIXES)
        not_text = f" ({len(skipped)} skipped as not text)" if skipped else ""
        raise ConfigurationError(
            f"No readable documents in {str(root)!r}{not_text}; the local agent reads {kinds} files."
        )
    return Corpus(base, tuple(documents), tuple(skipped)), digests


def corpus_files(root: Path) -> list[tuple[str, os.DirEntry[str]]]:
    """``(relative POSIX path, directory entry)`` of the files under the folder ``root`` that the corpus
    considers, sorted by that path: supported suffixes, nothing under a name starting with ``.`` or ``_``.

    One ``os.scandir`` walk (symlinked folders not entered, unreadable ones passed over, as
    ``Path.rglob`` does): no ``Path`` object per file, which was a fifth of reading 100,000 small files.
    The index cache keys its entries on the same listing (with each entry's ``stat``).
    """
    found: list[tuple[str, os.DirEntry[str]]] = []
    folders = [(os.fspath(root), "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    name = entry.name
                    if name.startswith((".", "_")):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        folders.append((entry.path, f"{prefix}{name}/"))
                    elif name.lower().endswith(SUPPORTED_SUFFIXES) and entry.is_file():
                        found.append((prefix + name, entry))
        except PermissionError:
            continue
    found.sort(key=itemgetter(0))
    return found


def _title_from_name(file: Path) -> str:
    return file.stem.replace("_", " ").replace("-", " ").strip().capitalize() or file.name


def read_document(file: Path) -> tuple[str, str, tuple[str, ...]] | None:
    """``(title, source url, paragraphs)`` of one file, or ``None`` when it cannot be read.

    Raises :class:`NotText` for a file with a text suffix whose content is not text.
    """
    return _parse_file(os.fspath(file), file.suffix.lower())[0]


def _parse_file(file: str, suffix: str) -> tuple[tuple[str, str, tuple[str, ...]] | None, bytes | None]:
    """The parsed document and the bytes it was parsed from (``None`` for a PDF)."""
    try:
        if suffix == ".pdf":
            return (_read_pdf(Path(file)) if os.stat(file).st_size <= _MAX_BYTES else None), None
        data = _read_bytes(file)
    except OSError:
        return None, None
    if data is None:
        return None, None
    text = read_text(data)
    if suffix in (".html", ".htm"):
        return _read_html(text), data
    return (_read_markdown(text) if suffix in (".md", ".markdown") else _read_plain(text)), data


def _read_bytes(file: str) -> bytes | None:
    """The file's bytes, ``None`` past ``_MAX_BYTES``: ``os.open``, ``fstat``, ``read`` until the end, ``close``
    (no file object, no buffer layer: for 100,000 small files their setup cost more than the reads)."""
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        if size > _MAX_BYTES:
            return None
        parts: list[bytes] = []
        total = 0
        while total <= _MAX_BYTES and (part := os.read(fd, max(size + 1 - total, 1 << 16))):
            parts.append(part)
            total += len(part)
    finally:
        os.close(fd)
    if total > _MAX_BYTES:
        return None
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_text(data: bytes) -> str:
    """``data`` as text: UTF-8 (a BOM allowed), without NUL bytes or more than a trace of control
    characters; the stray ones left become spaces. Raises :class:`NotText` saying why not."""
    if b"\x00" in data:
        raise NotText("it holds NUL bytes, so it is binary, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotText(f"it is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8") from None
    # Counted on the bytes (C0 controls and DEL are single bytes in UTF-8, never inside another character):
    # one C pass instead of a regex over every file's text.
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls > max(4, _MAX_CONTROL_SHARE * len(text)):
        raise NotText(f"{controls} of its {len(text)} characters are control characters, so it is not text")
    return _CONTROL.sub(" ", text) if controls else text


def _read_markdown(text: str) -> tuple[str, str, tuple[str, ...]]:
    title = url = ""
    paragraphs: list[str] = []
    current: list[str] = []
    in_fence = False

    def flush() -> None:
        if current:
            paragraphs.append(normalize_space(" ".join(current)))
            current.clear()

    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        # Each pattern is tried only where it could match (a colon; a '#' in the first four characters; a
        # list marker's first character): most lines are prose, and three regexes a line added up.
        source = _SOURCE_LINE.match(line) if ":" in line else None
        heading = _HEADING.match(line) if "#" in line[:4] else None
        first = stripped[:1]
        if source and not url:
            flush()
            url = source.group(1)
        elif heading:
            flush()
            title = title or _inline(heading.group(2))
        elif not first or first == "|":
            flush()
        elif (first in "-*+" or first.isdigit()) and _LIST_MARKER.match(line):
            flush()
            current.append(_inline(_LIST_MARKER.sub("", line)))
        else:
            current.append(_inline(line.lstrip("> ").strip()))
    flush()
    return title, url, tuple(p for p in paragraphs if p)


def _inline(text: str) -> str:
    """Drop inline Markdown (links keep their text) so quoted sentences read as prose."""
    if "](" in text:
        text = _MD_LINK.sub(r"\1", text)
    if "*" in text or "_" in text or "`" in text:
        text = _MD_EMPHASIS.sub("", text)
    return text.strip()


def _read_plain(text: str) -> tuple[str, str, tuple[str, ...]]:
    title = url = ""
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = []
        for line in block.splitlines():
            source = _SOURCE_LINE.match(line)
            if source and not url:
                url = source.group(1)
            elif line.strip():
                lines.append(line.strip())
        if not lines:
            continue
        # The first short line that does not end like a sentence is the title.
        if not title and not paragraphs and len(lines[0]) <= 120 and not lines[0].endswith((".", "!", "?")):
            title = lines.pop(0)
        if lines:
            paragraphs.append(normalize_space(" ".join(lines)))
    return title, url, tuple(paragraphs)


def _read_pdf(file: Path) -> tuple[str, str, tuple[str, ...]] | None:
    if importlib.util.find_spec("pypdf") is None:
        return None
    import pypdf

    try:
        reader = pypdf.PdfReader(str(file))
        pages = [_CONTROL.sub(" ", page.extract_text() or "") for page in reader.pages]
        meta_title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
    except Exception:  # pypdf raises many types for damaged files; a bad PDF must not stop the corpus
        return None
    title, url, paragraphs = _read_plain("\n\n".join(pages))
    return normalize_space(meta_title) or title, url, paragraphs

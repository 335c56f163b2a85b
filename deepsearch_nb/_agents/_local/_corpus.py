"""Loading a folder of documents into plain-text paragraphs and sentences.

The agent quotes sentences verbatim and cites the document they come from, so a document is reduced to
what a reader sees (no markup, no headings) and split once, at load time. Files are read in path order so
that document numbers, retrieval ties and therefore the report do not depend on the file system.

A file with a text suffix is not always text (an image renamed ``.txt``, a database dump under
``notes.md``): read as text it would put NUL and control characters into quoted sentences and the
report. Such files are skipped with a warning that names them (``Corpus.skipped`` keeps the list).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from ..._errors import ConfigurationError
from ._text import normalize_space, split_sentences

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Corpus",
    "Document",
    "NotText",
    "demo_corpus_path",
    "load_corpus",
    "read_document",
    "read_text",
]

_log = logging.getLogger("deepsearch_nb.local_agent")

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
_MAX_BYTES = 20 * 1024 * 1024  # a larger file is almost certainly not a document meant for the corpus
_SOURCE_LINE = re.compile(r"^\s*source\s*:\s*(\S+)\s*$", re.IGNORECASE)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)")
# C0 controls and DEL other than tab, newline, carriage return and form feed: never in prose.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
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
    documents: tuple[Document, ...]
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
    if path is not None and not isinstance(path, str | os.PathLike):
        raise ConfigurationError(
            "corpus must be the path of a folder (or one file) of .md, .txt, .html or .pdf documents, as a "
            f"str or pathlib.Path, or None for the shipped demo corpus; not {type(path).__name__}."
        )
    root = demo_corpus_path() if path is None else Path(path).expanduser()
    if not root.exists():
        raise ConfigurationError(f"The corpus path {str(root)!r} does not exist; pass a folder of documents.")
    files = [root] if root.is_file() else sorted(_candidate_files(root), key=lambda p: p.as_posix())
    base = root.parent if root.is_file() else root
    documents: list[Document] = []
    skipped: list[tuple[str, str]] = []
    for file in files:
        try:
            parsed = read_document(file)
        except NotText as exc:
            skipped.append((str(file), str(exc)))
            _log.warning("corpus: skipped %s: %s", file, exc)
            continue
        if parsed is None:
            continue
        title, url, paragraphs = parsed
        rel = file.relative_to(base).as_posix()
        sentences = tuple(s for p in paragraphs for s in split_sentences(p))
        if not sentences:
            continue
        url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29") if url else quote(rel, safe="/")
        documents.append(Document(len(documents), rel, title or _title_from_name(file), url, paragraphs, sentences))
    if not documents:
        kinds = ", ".join(SUPPORTED_SUFFIXES)
        not_text = f" ({len(skipped)} skipped as not text)" if skipped else ""
        raise ConfigurationError(
            f"No readable documents in {str(root)!r}{not_text}; the local agent reads {kinds} files."
        )
    return Corpus(base, tuple(documents), tuple(skipped))


def _candidate_files(root: Path) -> Iterator[Path]:
    for file in root.rglob("*"):
        rel_parts = file.relative_to(root).parts
        if any(part.startswith((".", "_")) for part in rel_parts):
            continue
        if file.is_file() and file.suffix.lower() in SUPPORTED_SUFFIXES:
            yield file


def _title_from_name(file: Path) -> str:
    return file.stem.replace("_", " ").replace("-", " ").strip().capitalize() or file.name


def read_document(file: Path) -> tuple[str, str, tuple[str, ...]] | None:
    """``(title, source url, paragraphs)`` of one file, or ``None`` when it cannot be read.

    Raises :class:`NotText` for a file with a text suffix whose content is not text.
    """
    suffix = file.suffix.lower()
    try:
        if file.stat().st_size > _MAX_BYTES:
            return None
        if suffix == ".pdf":
            return _read_pdf(file)
        text = read_text(file.read_bytes())
    except OSError:
        return None
    if suffix in (".html", ".htm"):
        return _read_html(text)
    return _read_markdown(text) if suffix in (".md", ".markdown") else _read_plain(text)


def read_text(data: bytes) -> str:
    """``data`` as text: UTF-8 (a BOM allowed), without NUL bytes or more than a trace of control
    characters; the stray ones left become spaces. Raises :class:`NotText` saying why not."""
    if b"\x00" in data:
        raise NotText("it holds NUL bytes, so it is binary, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotText(f"it is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8") from None
    controls = len(_CONTROL.findall(text))
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
        if line.lstrip().startswith(("```", "~~~")):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        source = _SOURCE_LINE.match(line)
        heading = _HEADING.match(line)
        if source and not url:
            flush()
            url = source.group(1)
        elif heading:
            flush()
            title = title or _inline(heading.group(2))
        elif not line.strip() or line.lstrip().startswith("|"):
            flush()
        elif _LIST_MARKER.match(line):
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


_BLOCK_TAG_TEXT = "p div li ul ol br tr td th section article header footer main aside blockquote pre table dd dt"
_BLOCK_TAGS = frozenset(_BLOCK_TAG_TEXT.split())
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class _HtmlText(HTMLParser):
    """Collects visible text as paragraphs; headings and ``<title>`` are kept apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.first_heading = ""
        self.url = ""
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skip = 0
        self._in_title = False
        self._in_heading = False
        self._heading: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "link" and values.get("rel", "").lower() == "canonical" and not self.url:
            self.url = values.get("href", "")
        elif tag == "meta" and values.get("name", "").lower() == "source" and not self.url:
            self.url = values.get("content", "")
        elif tag in _HEADINGS:
            self._flush()
            self._in_heading = True
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _HEADINGS:
            self._in_heading = False
            self.first_heading = self.first_heading or normalize_space("".join(self._heading))
            self._heading.clear()
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._skip:
            return
        elif self._in_heading:
            self._heading.append(data)
        else:
            self._current.append(data)

    def _flush(self) -> None:
        text = normalize_space("".join(self._current))
        self._current.clear()
        source = _SOURCE_LINE.match(text)
        if source:
            self.url = self.url or source.group(1)
        elif text:
            self.paragraphs.append(text)

    def close(self) -> None:
        super().close()
        self._flush()


def _read_html(text: str) -> tuple[str, str, tuple[str, ...]]:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    title = normalize_space(parser.title) or parser.first_heading
    return title, parser.url, tuple(parser.paragraphs)


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

"""Finding what a citation stands for in its source: the passage, the source's title, where it is.

A citation is only as good as the reader's chance to check it, so the passage is looked up in the source
itself when the report is checked, never taken on the agent's word: a local document is read again from
its file (a file edited after the run no longer holds the passage, and its citations fail), and a web
source counts as found only in content the agent fetched and handed over; without that content it is
"unverifiable", never "verified".

The corpus is found from the report's own agent spec (``corpus``: a folder, one file, or ``None`` for the
shipped demo corpus; the SDK's spec says ``search="corpus"`` when it searched that corpus), so a saved
report can be checked again later, wherever its corpus still is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._agents._local._corpus import Document, NotText, demo_corpus_path, load_corpus, read_document
from .._agents._local._text import normalize_space, split_sentences
from .._errors import ConfigurationError

__all__ = ["Passage", "SourceEvidence", "corpus_base", "gather_evidence"]

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|\*\*|__|`")


@dataclass(slots=True)
class Passage:
    """One passage a citation may stand for; ``found`` says whether the source holds it now."""

    text: str
    found: bool
    line: int | None = None  # 1-based line of the file where the passage starts
    section: str = ""  # the heading the passage sits under

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "found": self.found}
        if self.line is not None:
            out["line"] = self.line
        if self.section:
            out["section"] = self.section
        return out


@dataclass(slots=True)
class SourceEvidence:
    """What backs citation number ``n``: the source, and the passages it may stand for.

    ``kind``: ``local`` (a corpus file, read again for the check), ``web`` (only what the agent handed
    over), ``missing`` (no such source). ``readable``: the source could be read now (a local file exists
    and is text, or web content was given). ``candidates``: every sentence of a local document, for a
    report whose agent did not say which passage it used (the SDK's): the best one is chosen per citation.
    """

    n: int
    title: str
    url: str
    kind: str
    path: str = ""
    readable: bool = False
    passages: list[Passage] = field(default_factory=list)
    candidates: tuple[str, ...] = ()
    problem: str = ""  # why a local source could not be read

    @property
    def location(self) -> str:
        return self.path or self.url

    def to_json(self, used: set[int] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "url": self.url, "kind": self.kind, "location": self.location}
        if self.path:
            out["path"] = self.path
        if self.problem:
            out["problem"] = self.problem
        out["passages"] = [p.to_json() for i, p in enumerate(self.passages) if used is None or i in used]
        return out


def corpus_base(doc: Mapping[str, Any]) -> Path | None:
    """The folder a report's local documents are relative to, or None when it searched no local corpus."""
    agent = doc.get("agent")
    spec = agent.get("spec") if isinstance(agent, Mapping) else None
    config = spec.get("config") if isinstance(spec, Mapping) else None
    if not isinstance(config, Mapping) or "corpus" not in config:
        return None
    if str(config.get("search") or "corpus") != "corpus":
        return None  # the SDK searched the web
    corpus = config.get("corpus")
    root = demo_corpus_path() if corpus is None else Path(str(corpus)).expanduser()
    return root.parent if root.is_file() else root


def gather_evidence(doc: Mapping[str, Any], numbers: set[int]) -> dict[int, SourceEvidence]:
    """The evidence of each cited number: from the agent's citation records and the sources list, with
    every passage looked up in the source as it is now."""
    sources = {s.get("index"): s for s in doc.get("sources") or [] if isinstance(s, Mapping)}
    records = doc.get("citations") if isinstance(doc.get("citations"), Mapping) else {}
    assert isinstance(records, Mapping)
    base = corpus_base(doc)
    out: dict[int, SourceEvidence] = {}
    for n in sorted(numbers):
        record = records.get(str(n))
        record = record if isinstance(record, Mapping) else {}
        source = sources.get(n) if isinstance(sources.get(n), Mapping) else {}
        assert isinstance(source, Mapping)
        if not record and not source:
            out[n] = SourceEvidence(n, "", "", "missing")
            continue
        title = _str(record.get("title")) or _str(source.get("title"))
        url = _str(record.get("url")) or _str(source.get("url"))
        sentences = [normalize_space(_str(s)) for s in record.get("sentences") or [] if _str(s).strip()]
        evidence = SourceEvidence(n, title, url, "web")
        in_memory = bool(record.get("content")) and not record.get("path")  # a DataFrame row, a string
        path = _str(record.get("path")) or (_path_by_url(base, url) if base is not None and not in_memory else "")
        if base is not None and path:
            evidence.kind, evidence.path = "local", path
            _check_local(evidence, base, sentences)
        else:
            content = normalize_space(_str(record.get("content")))
            evidence.readable = bool(content)
            evidence.passages = [Passage(s, bool(content) and s in content) for s in sentences]
        out[n] = evidence
    return out


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _check_local(evidence: SourceEvidence, base: Path, sentences: list[str]) -> None:
    evidence.passages = [Passage(s, False) for s in sentences]  # what the agent says it quoted, until found
    file = (base / evidence.path).resolve()
    if not file.is_relative_to(base.resolve()):
        evidence.problem = f"{evidence.path} is outside the corpus folder"
        return
    try:
        parsed = read_document(file) if file.is_file() else None
    except (NotText, OSError) as exc:
        evidence.problem = f"{evidence.path} is not readable text now ({exc})"
        return
    if parsed is None:
        evidence.problem = f"{evidence.path} is no longer in the corpus folder {base}"
        return
    evidence.readable = True
    text = normalize_space(" ".join(parsed[2]))
    raw = file.read_text(encoding="utf-8", errors="replace") if file.suffix.lower() != ".pdf" else ""
    if not sentences:  # the agent did not say which passage: any sentence of the document may be it
        evidence.candidates = tuple(s for p in parsed[2] for s in split_sentences(p))
    evidence.passages = [_locate(Passage(s, s in text), raw) for s in sentences]


def add_candidate(evidence: SourceEvidence, sentence: str, base: Path | None) -> int:
    """Register a chosen candidate sentence as a passage (found: it was read from the file); its index."""
    for i, passage in enumerate(evidence.passages):
        if passage.text == sentence:
            return i
    raw = ""
    if base is not None:
        try:
            raw = (base / evidence.path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            raw = ""
    evidence.passages.append(_locate(Passage(sentence, True), raw))
    return len(evidence.passages) - 1


def _locate(passage: Passage, raw: str) -> Passage:
    """The line where the passage starts in the file's text and the heading above it (when found)."""
    if not passage.found or not raw:
        return passage
    lines = raw.splitlines()
    flat: list[str] = []
    starts: list[int] = []  # for each character of ``flat``, its line number
    for number, line in enumerate(lines, start=1):
        words = normalize_space(_MARKUP.sub(lambda m: m.group(1) or "", line))
        if not words:
            continue
        piece = (" " if flat else "") + words
        flat.append(piece)
        starts.extend([number] * len(piece))
    joined = "".join(flat)
    probe = passage.text[:60]
    at = joined.find(probe)
    if at < 0:
        return passage
    passage.line = starts[min(at + (1 if joined[at : at + 1] == " " else 0), len(starts) - 1)]
    for line in reversed(lines[: passage.line - 1]):
        heading = _HEADING.match(line)
        if heading:
            passage.section = normalize_space(heading.group(1))
            break
    return passage


def _path_by_url(base: Path, url: str) -> str:
    """The corpus file a source URL stands for (the SDK's references carry URLs only)."""
    if not url:
        return ""
    try:
        documents = _documents(str(base))
    except ConfigurationError:
        return ""
    found = next((d for d in documents if d.url == url), None)
    return found.path if found is not None else ""


@functools.lru_cache(maxsize=4)
def _documents(base: str) -> tuple[Document, ...]:
    return tuple(load_corpus(base).documents)  # (a tuple already: load_corpus reads the files)

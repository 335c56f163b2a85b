"""A saved BM25 index per corpus, so a second agent on an unchanged folder does not read and index it again.

Reading and indexing 100,000 documents takes tens of seconds; a notebook constructs its agent again on
every kernel restart. So the parsed documents, the vocabulary, the idf table, the bm25s model (saved and
loaded by bm25s itself, as ``.npy`` arrays and JSON) and the content fingerprint are written to a cache
entry after a build, and loaded instead of a build when the corpus is unchanged. The documents (strings in
tuples only) are stored with :mod:`marshal`, which reads them three times faster than JSON and, unlike
pickle, cannot make a loaded file run code; the key includes the Python version its format belongs to.
A loaded entry is mostly mapped, not read: each document is unmarshalled when first used (``_stored``)
and bm25s maps its score arrays, so the second agent's start is listing the folder and little else.

*Unchanged* is decided without reading the files: the entry's key hashes every candidate file's relative
path, size and modification time (nanoseconds), the code that turns files into an index (its source
files' bytes) and the bm25s version. An edit, an added, removed or renamed file changes the key, so the
next agent builds afresh and caches the new state. (An edit that keeps a file's size *and* its mtime, as
``touch -r`` can fake, goes unseen; the report's content fingerprint was computed from the bytes read.)

Where: ``$DEEPSEARCH_NB_CACHE_DIR/index`` when that variable is set (``off`` turns caching off), else
``$XDG_CACHE_HOME/deepsearch-nb/index`` or ``~/.cache/deepsearch-nb/index``. The ``_MAX_ENTRIES`` most
recently used entries are kept. A cache that cannot be read or written is never an error: the corpus is
then read and indexed as without a cache (logged at debug level).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import marshal
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._corpus import Corpus, corpus_files, demo_corpus_path, read_corpus
from ._fingerprint import corpus_fingerprint
from ._index import CorpusIndex
from ._stored import StoredDocuments, write_documents

__all__ = ["cache_dir", "load_indexed"]

_log = logging.getLogger("deepsearch_nb.local_agent")

_ENV = "DEEPSEARCH_NB_CACHE_DIR"
_FORMAT = 2
_MAX_ENTRIES = 8
_CODE = ("_corpus.py", "_html.py", "_text.py", "_index.py", "_index_cache.py", "_fingerprint.py", "_stored.py")


def cache_dir() -> Path | None:
    """The folder of the cached indexes, or None when caching is off (``DEEPSEARCH_NB_CACHE_DIR=off``)."""
    configured = os.environ.get(_ENV, "").strip()
    if configured.lower() in ("off", "0", "false", "no", "none"):
        return None
    if configured:
        return Path(configured).expanduser() / "index"
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deepsearch-nb" / "index"


def load_indexed(path: str | Path | None) -> tuple[Corpus, CorpusIndex, dict[str, Any]]:
    """The corpus under ``path`` (demo corpus for None), its index and its fingerprint: cached if unchanged."""
    root = _root(path)
    where = cache_dir()
    if root is None or where is None:  # load_corpus says what is wrong with ``path``
        return _build(path)
    try:
        key = _key(root)
    except OSError as exc:
        _log.debug("index cache: cannot list %s (%s); indexing without the cache", root, exc)
        return _build(path)
    entry = where / key
    if entry.is_dir():
        collecting = gc.isenabled()
        gc.disable()  # a million new strings and tuples, none cyclic: a quarter of the load time was the collector
        try:
            loaded = _load(entry, root)
            os.utime(entry)  # most recently used
            return loaded
        except Exception as exc:  # a damaged or foreign entry: rebuild and replace it
            _log.debug("index cache: entry %s unreadable (%s: %s); rebuilding", entry, type(exc).__name__, exc)
        finally:
            if collecting:
                gc.enable()
    built = _build(path)
    try:
        _save(where, key, *built)
    except Exception as exc:
        _log.debug("index cache: cannot write under %s (%s: %s)", where, type(exc).__name__, exc)
    return built


def _build(path: str | Path | None) -> tuple[Corpus, CorpusIndex, dict[str, Any]]:
    corpus, digests = read_corpus(path)  # the fingerprint hashes the bytes read, not the files once more
    return corpus, CorpusIndex(corpus), corpus_fingerprint(corpus, digests)


def _root(path: object) -> Path | None:
    if path is None:
        return demo_corpus_path()
    if not isinstance(path, str | os.PathLike):
        return None
    root = Path(path).expanduser()
    return root if root.exists() else None


# --- the key: the files as the file system describes them, without reading them ----------------------


def _listing(root: Path) -> list[str]:
    """A line ``relative path, size, mtime`` per file ``load_corpus`` would consider (its ``corpus_files``,
    so in path order); one comprehension, the walk's time being most of a second agent's start."""
    if root.is_file():
        stat = root.stat()
        return [f"{root.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n"]
    return [f"{rel}\0{s.st_size}\0{s.st_mtime_ns}\n" for rel, entry in corpus_files(root) for s in (entry.stat(),)]


def _key(root: Path) -> str:
    versions = f"deepsearch-nb index cache {_FORMAT}\0{_bm25s_version()}\0{sys.version}\0{marshal.version}\0"
    digest = hashlib.sha256(versions.encode())
    here = Path(__file__).parent
    for name in _CODE:
        digest.update((here / name).read_bytes())
    digest.update(str(root.resolve()).encode("utf-8", "surrogateescape") + b"\0")
    digest.update("".join(_listing(root)).encode("utf-8", "surrogateescape"))  # one call: 100,000 were slower
    return digest.hexdigest()[:32]


def _bm25s_version() -> str:
    from importlib.metadata import version

    return version("bm25s")


# --- an entry: documents.marshal + documents.offsets (see _stored), index.json (idf, fingerprint,
# skipped), bm25/ (bm25s's own files) ------------------------------------------------------------------


def _save(where: Path, key: str, corpus: Corpus, index: CorpusIndex, fingerprint: dict[str, Any]) -> None:
    where.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=where))
    try:
        vocab, idf, bm25 = index.state()
        bm25.save(str(staging / "bm25"), show_progress=False)
        with (staging / "documents.marshal").open("wb") as records, (staging / "documents.offsets").open("wb") as at:
            write_documents(corpus.documents, records, at)
        meta = {"idf": idf, "vocab_size": len(vocab), "fingerprint": fingerprint, "skipped": corpus.skipped}
        _write_json(staging / "index.json", meta)
        try:
            os.replace(staging, where / key)  # atomic: another process sees all of it or nothing
        except OSError:  # a concurrent writer got there first: theirs is as good
            return
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    _prune(where)


def _write_json(path: Path, value: object) -> None:
    with path.open("w", encoding="utf-8") as handle:  # dumps, not dump: only it uses the C encoder
        handle.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _load(entry: Path, root: Path) -> tuple[Corpus, CorpusIndex, dict[str, Any]]:
    import bm25s

    meta = json.loads((entry / "index.json").read_text(encoding="utf-8"))
    documents = StoredDocuments(entry / "documents.marshal", entry / "documents.offsets")  # read when used
    base = root.parent if root.is_file() else root
    corpus = Corpus(base, documents, tuple((str(p), str(why)) for p, why in meta["skipped"]))
    bm25: Any = bm25s.BM25.load(str(entry / "bm25"), mmap=True)  # the score columns a query needs are read
    vocab: dict[str, int] = bm25.vocab_dict
    idf = [float(x) for x in meta["idf"]]
    if len(vocab) != meta["vocab_size"] or len(idf) != len(vocab) or int(bm25.scores["num_docs"]) != len(documents):
        raise ValueError("the entry's parts do not match")
    return corpus, CorpusIndex.restored(corpus, vocab, idf, bm25), meta["fingerprint"]


def _prune(where: Path) -> None:
    entries = [e for e in where.iterdir() if e.is_dir() and not e.name.startswith(".")]
    entries.sort(key=lambda e: e.stat().st_mtime, reverse=True)
    for old in entries[_MAX_ENTRIES:]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in where.glob(".*-*"):  # staging folders of writers that died (older than an hour)
        if stale.is_dir() and time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)

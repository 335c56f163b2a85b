"""The project's local document search, offered to the SDK as its ``custom`` web-search engine.

The SDK 0.1.11 loads a custom engine from a *file* (``custom_web_search_config``: a path and a class
name), calls the class with the engine's config (``search_engine_name``, ``search_url``,
``max_web_search_results``, ``extension``, ...) and awaits ``aresults(query)`` for a list of
``{"title", "url", "content", "score"}``. The file is :mod:`._search_plugin`, which only re-exports
:class:`CorpusSearch`; the corpus itself is found through ``extension["corpus_key"]`` in a
process-wide registry, so the SDK re-loading the file each round costs nothing and the corpus is read
and indexed once. Retrieval is the local agent's: the same corpus loader, the same BM25 index, the
same document URLs (so the report's references point at the same files).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..._errors import ConfigurationError
from .._local._corpus import load_corpus
from .._local._index import CorpusIndex
from .._local._sources import Sources
from .._local._text import tokenize

__all__ = ["PLUGIN_CLASS", "CorpusSearch", "plugin_path", "register_corpus", "register_sources"]

PLUGIN_CLASS = "CorpusSearch"
_MAX_CONTENT = 4000  # characters of a document handed to the SDK per hit (it extracts passages from them)
_INDEXES: dict[str, CorpusIndex] = {}
_LOCK = threading.Lock()


def plugin_path() -> str:
    """The file the SDK loads the engine from (``custom_web_search_file``)."""
    return str(Path(__file__).with_name("_search_plugin.py"))


def register_corpus(corpus: str | None) -> str:
    """Read and index a corpus once per process; returns the key the engine finds it by.

    ``None`` is the shipped demo corpus. Raises :class:`ConfigurationError` for a path without documents.
    """
    key = corpus or "<demo corpus>"
    with _LOCK:
        if key not in _INDEXES:
            _INDEXES[key] = CorpusIndex(load_corpus(corpus))
    return key


def register_sources(sources: Sources) -> str:
    """Index the notebook's own data (``OpenJiuwenAgent(sources=...)``) once per set of documents; its key."""
    key = f"<sources {sources.fingerprint['sha256']}>"
    with _LOCK:
        if key not in _INDEXES:
            _INDEXES[key] = CorpusIndex(sources.corpus)
    return key


class CorpusSearch:
    """A web-search engine over a local corpus (the SDK instantiates it once per round)."""

    def __init__(self, **engine_config: Any) -> None:
        extension = engine_config.get("extension")
        key = extension.get("corpus_key") if isinstance(extension, Mapping) else None
        index = _INDEXES.get(str(key)) if key is not None else None
        if index is None:
            raise ConfigurationError(
                f"No corpus is registered under {key!r}: build the agent with OpenJiuwenAgent(corpus=...)."
            )
        self.index = index
        self.max_results = int(engine_config.get("max_web_search_results") or 5)

    async def aresults(self, query: str) -> list[dict[str, Any]]:
        """The best documents for ``query``, as the SDK's web engines return them."""
        weights: dict[str, float] = {}
        for term in tokenize(query):
            weights[term] = weights.get(term, 0.0) + 1.0
        hits = self.index.search(weights, self.max_results)
        top = max((hit.score for hit in hits), default=1.0) or 1.0  # the SDK reads scores as 0..1 relevance
        return [
            {
                "title": hit.doc.title,
                "url": hit.doc.url,
                "content": hit.doc.text[:_MAX_CONTENT],
                "score": round(hit.score / top, 4),
            }
            for hit in hits
        ]

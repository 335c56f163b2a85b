"""BM25 retrieval over the corpus (``bm25s``), plus the term statistics the writer and outliner share.

The vocabulary is built here in first-seen order and handed to ``bm25s`` as token ids, so token
numbering never depends on Python's hash seed; ties between equal scores are broken by document number.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._corpus import Corpus, Document
from ._text import STOPWORDS, stem, tokenize, word_tokens

__all__ = ["CorpusIndex", "Hit"]

_TITLE_WEIGHT = 2  # a title states what a document is about: its terms count twice
_SLICE = 1 << 20  # (term, document) pairs scored at a time


class _TermIds(dict[str, int]):
    """word -> term id (-1: a stopword or a one-letter word), numbering new terms in first-seen order.

    The same terms as :func:`tokenize` gives (lower-cased words, stopwords out, plurals folded), but each
    distinct word is looked at once for the whole corpus: the rest are dict hits in a ``map``, which made
    indexing 100,000 documents about twice as fast as tokenizing each into strings and numbering those.
    """

    __slots__ = ("vocab",)

    def __init__(self, vocab: dict[str, int]) -> None:
        super().__init__()
        self.vocab = vocab

    def __missing__(self, word: str) -> int:
        term = "" if word in STOPWORDS or len(word) < 2 else stem(word)
        tid = self.vocab.setdefault(term, len(self.vocab)) if term else -1
        self[word] = tid
        return tid


class _AsciiTermIds(dict[bytes, int]):
    """The same ids for the words of ASCII text, found as bytes: ``bytes.translate`` lower-cases and blanks
    everything but letters and digits in one C pass, and ``split`` cuts the words, three times faster than
    the regex of :func:`word_tokens` (which, on ASCII text, finds exactly these words)."""

    __slots__ = ("words",)

    def __init__(self, words: _TermIds) -> None:
        super().__init__()
        self.words = words

    def __missing__(self, word: bytes) -> int:
        tid = self[word] = self.words[word.decode("ascii")]
        return tid


# byte -> itself for a-z and 0-9, its lower case for A-Z, a space for every other ASCII byte
_ASCII_WORDS = bytes(b if chr(b).isascii() and chr(b).isalnum() else 0x20 for b in range(128)).lower() + bytes(
    range(128, 256)
)


def _term_ids(documents: Sequence[Document]) -> tuple[array[int], list[int], dict[str, int]]:
    """Every document's term ids in one flat array (title terms twice, -1 for stopwords, kept so that
    the ``map`` needs no filter in Python), the number of ids of each document, and the vocabulary."""
    vocab: dict[str, int] = {}
    words = _TermIds(vocab)
    by_str, by_bytes = words.__getitem__, _AsciiTermIds(words).__getitem__
    ids: array[int] = array("i")
    counts: list[int] = []
    for doc in documents:
        before = len(ids)
        body = " ".join(doc.paragraphs)  # (doc.text joins them with blank lines: the same words)
        if doc.title.isascii() and body.isascii():
            title = array("i", map(by_bytes, doc.title.encode("ascii").translate(_ASCII_WORDS).split()))
            ids.extend(title * _TITLE_WEIGHT)
            ids.extend(map(by_bytes, body.encode("ascii").translate(_ASCII_WORDS).split()))
        else:
            ids.extend(map(by_str, word_tokens(doc.title) * _TITLE_WEIGHT))
            ids.extend(map(by_str, word_tokens(body)))
        counts.append(len(ids) - before)
    return ids, counts, vocab


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved document and its (query-weighted) BM25 score."""

    doc: Document
    score: float


class CorpusIndex:
    """A read-only BM25 index; safe to share between conversations (no state changes after build)."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        ids, counts, vocab = _term_ids(corpus.documents)
        self._vocab = vocab
        self._n_docs = len(corpus.documents)
        self._bm25, doc_freq = _lucene_bm25(ids, counts, vocab)
        self._idf = [self._idf_of(int(df)) for df in doc_freq]

    @classmethod
    def restored(cls, corpus: Corpus, vocab: dict[str, int], idf: list[float], bm25: Any) -> CorpusIndex:
        """The index as :meth:`state` gave it, over the same documents (a cached index, see ``_index_cache``)."""
        index = cls.__new__(cls)
        index.corpus = corpus
        index._vocab = vocab
        index._n_docs = len(corpus.documents)
        index._idf = idf
        index._bm25 = bm25
        return index

    def state(self) -> tuple[dict[str, int], list[float], Any]:
        """What :meth:`restored` needs besides the corpus: vocabulary, idf per term id, the bm25s model."""
        return self._vocab, self._idf, self._bm25

    def _idf_of(self, df: int) -> float:
        # The Lucene idf bm25s uses: positive even for terms in most documents.
        return math.log(1.0 + (self._n_docs - df + 0.5) / (df + 0.5))

    @property
    def vocabulary_size(self) -> int:
        return len(self._vocab)

    def idf(self, term: str) -> float:
        """Rarity of a term; unknown terms weigh nothing (nothing in the corpus can match them)."""
        tid = self._vocab.get(term)
        return 0.0 if tid is None else self._idf[tid]

    def matching_documents(self, terms: Sequence[str]) -> int:
        """How many documents contain at least one of ``terms``."""
        return int(np.count_nonzero(self.scores(dict.fromkeys(terms, 1.0))))

    def scores(self, weights: Mapping[str, float]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """BM25 score of every document for a weighted query (weights multiply each term's score)."""
        total = np.zeros(self._n_docs, dtype=np.float64)
        for term, weight in weights.items():
            tid = self._vocab.get(term)
            if tid is None or weight <= 0:
                continue
            total += weight * self._bm25.get_scores_from_ids([tid]).astype(np.float64)
        return total

    def search(
        self, weights: Mapping[str, float], k: int, *, exclude: Sequence[int] = (), min_score: float = 0.0
    ) -> list[Hit]:
        """The ``k`` best documents with a positive score, best first, ties by document number."""
        scores = self.scores(weights)
        if len(exclude):
            scores[np.asarray(exclude, dtype=np.int64)] = 0.0
        order = np.lexsort((np.arange(self._n_docs), -scores))
        hits: list[Hit] = []
        for i in order[: max(k, 0)]:
            score = float(scores[i])
            if score <= min_score:
                break
            hits.append(Hit(self.corpus.documents[int(i)], round(score, 6)))
        return hits

    def vector(self, doc: Document) -> dict[str, float]:
        """A unit-length tf-idf vector of a document, for grouping documents into sections."""
        counts = Counter(tokenize(doc.title) * _TITLE_WEIGHT + tokenize(doc.text))
        weights = {t: (1.0 + math.log(c)) * self.idf(t) for t, c in sorted(counts.items())}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {t: w / norm for t, w in weights.items()}

    def sentence_score(self, sentence_terms: Sequence[str], weights: Mapping[str, float]) -> float:
        """How well one sentence answers a weighted query: idf of the query terms it contains, damped by
        length so long sentences do not win by size alone."""
        present = set(sentence_terms)
        gained = sum(w * self.idf(t) for t, w in weights.items() if t in present)
        return gained / (1.0 + 0.02 * len(sentence_terms))


def _key_type(n_vocab: int, n_docs: int) -> type[np.signedinteger[Any]]:
    """The type of one sortable key per (term, document) pair: 32-bit when every key fits (it halves the
    sort's work), else 64-bit."""
    return np.int32 if n_vocab * max(n_docs, 1) < 2**31 else np.int64


def _lucene_bm25(ids: array[int], counts: list[int], vocab: dict[str, int]) -> tuple[Any, np.ndarray[Any, Any]]:
    """A ``bm25s.BM25()`` indexed on the term ids of :func:`_term_ids` (and each term's document count),
    its score matrix computed by numpy in one pass instead of by ``BM25.index``'s loop over documents.
    Empties ``ids`` (freed before the sort, for the peak memory).

    Why: that loop (a set intersection and a ``Counter`` per document) was a third of the time to index
    100,000 documents. The arithmetic is bm25s's own, in its order and types (Lucene idf and term
    frequency, ``k1``, ``b``; float64 then float32), so the arrays are equal to what ``index`` builds
    (tests/agents/test_local_index_build.py checks them against it); bm25s saves, loads and queries them.
    """
    import bm25s  # imported here: it costs ~0.3 s and only the local agent needs it

    model: Any = bm25s.BM25()
    n_docs, n_vocab = len(counts), len(vocab)
    flat = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, dtype=np.int32)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int32), np.asarray(counts, dtype=np.int64))
    kept = flat >= 0  # stopwords out
    keys = flat[kept].astype(_key_type(n_vocab, n_docs))
    keys *= max(n_docs, 1)  # (in place, in the key's type: every key fits it)
    del flat
    del ids[:]  # consumed (the array's buffer was the larger copy), freed before the sort
    doc_of = doc_of[kept]
    del kept
    lengths = np.bincount(doc_of, minlength=n_docs).astype(np.int64)  # terms per document, stopwords out
    total = len(keys)
    keys += doc_of
    del doc_of
    keys.sort()  # (term, document) pairs, by term then document: the CSC order; in place (no copy)
    if total:  # where each run of equal pairs starts: its length is the term's frequency in the document
        bounds = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1, [total]))
    else:
        bounds = np.zeros(1, dtype=np.int64)
    pairs = keys[bounds[:-1]]
    del keys
    counts_of = np.diff(bounds)
    del bounds
    docs = (pairs % max(n_docs, 1)).astype(model.int_dtype)
    terms = (pairs // max(n_docs, 1)).astype(np.int32)
    del pairs
    doc_freq = np.bincount(terms, minlength=n_vocab)
    idf = np.zeros(n_vocab, dtype=model.dtype)
    for term, df in enumerate(doc_freq.tolist()):
        if df:
            idf[term] = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))  # bm25s's _score_idf_lucene
    norm = model.k1 * ((1 - model.b) + model.b * lengths / lengths.mean())  # per document, as bm25s
    data = np.empty(len(docs), dtype=model.dtype)
    for lo in range(0, len(docs), _SLICE):  # in slices: the float64 temporaries stay small
        tf = counts_of[lo : lo + _SLICE].astype(model.dtype)
        data[lo : lo + _SLICE] = idf[terms[lo : lo + _SLICE]] * (tf / (norm[docs[lo : lo + _SLICE]] + tf))
    del counts_of, terms
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(doc_freq, out=indptr[1:])
    model.scores = {"data": data, "indices": docs, "indptr": indptr, "num_docs": n_docs}
    model.vocab_dict = vocab
    model.unique_token_ids_set = set(vocab.values())
    model.nonoccurrence_array = None
    return model, doc_freq


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two unit vectors stored as dicts."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())

"""What ``bm25s`` itself builds from a corpus, to compare the local agent's own BM25 build against."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import bm25s
import numpy as np

from deepsearch_nb._agents._local._text import tokenize


def assert_same_as_bm25s(documents: Iterable[Any], vocab: dict[str, int], ours: Any) -> Any:
    """Index ``documents`` (title twice, then text, as the agent does) with ``bm25s.BM25.index`` and
    assert the vocabulary and the score matrix equal ours, array by array; the reference, for more checks."""
    reference_vocab: dict[str, int] = {}
    token_ids = []
    for doc in documents:
        terms = tokenize(doc.title) * 2 + tokenize(doc.text)
        token_ids.append([reference_vocab.setdefault(t, len(reference_vocab)) for t in terms])
    assert list(vocab.items()) == list(reference_vocab.items())
    reference = bm25s.BM25()
    reference.index((token_ids, reference_vocab), create_empty_token=False, show_progress=False)
    for key in ("data", "indices", "indptr"):
        mine, theirs = ours.scores[key], reference.scores[key]
        assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs), key
    return reference

"""The local agent's BM25 matrix, built with numpy (issue 16: a third of the time to index 100,000 documents
went to bm25s's per-document loop), is the very matrix ``bm25s.BM25.index`` builds: same arrays, same
types, same scores."""

from __future__ import annotations

import bm25s
import numpy as np

from deepsearch_nb import LocalResearchAgent
from deepsearch_nb._agents._local._text import tokenize


def test_the_index_equals_what_bm25s_builds_itself() -> None:
    agent = LocalResearchAgent()  # the demo corpus
    index = agent.index
    vocab, idf, ours = index.state()
    reference_vocab: dict[str, int] = {}
    token_ids = []
    for doc in agent.corpus.documents:
        terms = tokenize(doc.title) * 2 + tokenize(doc.text)
        token_ids.append([reference_vocab.setdefault(t, len(reference_vocab)) for t in terms])
    assert list(reference_vocab.items()) == list(vocab.items())
    reference = bm25s.BM25()
    reference.index((token_ids, reference_vocab), create_empty_token=False, show_progress=False)
    for key in ("data", "indices", "indptr"):
        mine, theirs = ours.scores[key], reference.scores[key]
        assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs), key
    assert ours.scores["num_docs"] == reference.scores["num_docs"]
    for term in ("battery", "storage", "grid", "cost"):
        tid = vocab[term] if term in vocab else vocab[next(iter(vocab))]
        assert np.array_equal(ours.get_scores_from_ids([tid]), reference.get_scores_from_ids([tid]))
    assert len(idf) == len(vocab) and all(x > 0 for x in idf)

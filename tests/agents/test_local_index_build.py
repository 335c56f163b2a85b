"""The local agent's BM25 matrix, built with numpy (issue 16: a third of the time to index 100,000 documents
went to bm25s's per-document loop), is the very matrix ``bm25s.BM25.index`` builds: same arrays, same
types, same scores."""

from __future__ import annotations

import numpy as np

from deepsearch_nb import LocalResearchAgent

from ._bm25_reference import assert_same_as_bm25s


def test_the_index_equals_what_bm25s_builds_itself() -> None:
    agent = LocalResearchAgent()  # the demo corpus
    index = agent.index
    vocab, idf, ours = index.state()
    reference = assert_same_as_bm25s(agent.corpus.documents, vocab, ours)
    assert ours.scores["num_docs"] == reference.scores["num_docs"]
    for term in ("battery", "storage", "grid", "cost"):
        tid = vocab[term] if term in vocab else vocab[next(iter(vocab))]
        assert np.array_equal(ours.get_scores_from_ids([tid]), reference.get_scores_from_ids([tid]))
    assert len(idf) == len(vocab) and all(x > 0 for x in idf)

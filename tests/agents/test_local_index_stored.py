"""A saved index is loaded lazily (issue 16: a second agent on 100,000 documents spent its start building
every ``Document``): its documents are read when used, and it answers exactly as a fresh build does."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pytest

from deepsearch_nb import LocalResearchAgent
from deepsearch_nb._agents._local._stored import StoredDocuments
from deepsearch_nb.bench._local_agent import _write_corpus


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEEPSEARCH_NB_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "corpus"
    root.mkdir()
    _write_corpus(root, 400)  # the benchmark's generated documents, at a small size
    (root / "extra.md").write_text("# Ünïcode cafés\n\nNaïve façades, e.g. here. Dr. Who came.\n", "utf-8")
    return root


def _entry(tmp_path: Path) -> Path:
    (entry,) = (tmp_path / "cache" / "index").iterdir()
    return entry


def test_the_saved_index_answers_exactly_as_a_fresh_build(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = LocalResearchAgent(folder)  # builds and saves
    loaded = LocalResearchAgent(folder)
    monkeypatch.setenv("DEEPSEARCH_NB_CACHE_DIR", "off")
    fresh = LocalResearchAgent(folder)
    assert isinstance(loaded.corpus.documents, StoredDocuments)
    assert isinstance(fresh.corpus.documents, tuple) and isinstance(built.corpus.documents, tuple)
    vocabulary = sorted(fresh.index.state()[0])
    rng = random.Random(16)
    for _ in range(40):
        weights = {t: rng.choice((0.5, 1.0, 2.0)) for t in rng.sample(vocabulary, rng.randint(1, 6))}
        expected = [(h.doc, h.score) for h in fresh.index.search(weights, 25)]
        assert [(h.doc, h.score) for h in loaded.index.search(weights, 25)] == expected
        assert np.array_equal(loaded.index.scores(weights), fresh.index.scores(weights))
        assert loaded.index.matching_documents(list(weights)) == fresh.index.matching_documents(list(weights))
    assert loaded.corpus == fresh.corpus and fresh.corpus == loaded.corpus
    assert loaded.spec() == fresh.spec()
    assert [loaded.index.idf(t) for t in vocabulary] == [fresh.index.idf(t) for t in vocabulary]


def test_documents_are_read_when_used_not_at_load(folder: Path, tmp_path: Path) -> None:
    LocalResearchAgent(folder)
    agent = LocalResearchAgent(folder)
    documents = agent.corpus.documents
    assert isinstance(documents, StoredDocuments)
    assert documents._loaded.count(None) == len(documents) == 401  # nothing unmarshalled yet
    hits = agent.index.search({next(iter(agent.index.state()[0])): 1.0}, 5)
    assert 0 < len(hits) <= 5 and len(documents) - documents._loaded.count(None) == len(hits)


def test_stored_documents_behave_as_the_tuple_they_equal(folder: Path) -> None:
    expected = LocalResearchAgent(folder).corpus.documents
    documents = LocalResearchAgent(folder).corpus.documents
    assert isinstance(documents, StoredDocuments) and isinstance(expected, tuple)
    assert len(documents) == len(expected)
    assert documents[-1] == expected[-1] and documents[0] == expected[0] and documents[3] is documents[3]
    assert documents[10:20:3] == expected[10:20:3] and documents[-3:] == expected[-3:]
    assert [d.doc_id for d in documents] == list(range(len(expected)))
    assert type(documents[7].doc_id) is int
    assert list(documents) == list(expected) and hash(documents) == hash(expected)
    assert documents.index(expected[12]) == 12 and expected[12] in documents
    with pytest.raises(IndexError):
        documents[len(expected)]
    assert pickle.loads(pickle.dumps(documents)) == expected


def test_a_record_damaged_in_place_is_named_when_read(folder: Path, tmp_path: Path) -> None:
    LocalResearchAgent(folder)
    records = _entry(tmp_path) / "documents.marshal"
    data = bytearray(records.read_bytes())
    data[5:45] = b"\xff" * 40  # same size, so the entry still loads
    records.write_bytes(bytes(data))
    documents = LocalResearchAgent(folder).corpus.documents
    assert documents[1].doc_id == 1
    with pytest.raises(RuntimeError, match=r"is damaged .*document 0"):
        documents[0]

"""The faster first index of issue 16 gives the same corpus, index and fingerprint as the straightforward
way: one ``os.scandir`` walk with the rules of ``Path.rglob``, the fingerprint hashed from the bytes read
(not from a second read of every file), ASCII words found with ``bytes.translate``, and text that is
already normalized left as it is."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from deepsearch_nb._agents._local import _corpus, _fingerprint, _index_cache
from deepsearch_nb._agents._local._corpus import SUPPORTED_SUFFIXES, corpus_files, load_corpus, read_corpus
from deepsearch_nb._agents._local._fingerprint import corpus_fingerprint
from deepsearch_nb._agents._local._index import _ASCII_WORDS, CorpusIndex
from deepsearch_nb._agents._local._text import normalize_space, split_sentences, word_tokens

from ._bm25_reference import assert_same_as_bm25s

# Every ASCII character once, then words that the regex and the byte table must cut the same way.
ASCII = "".join(map(chr, range(32, 127))) + " snake_case CamelCase x2 2x e.g. Dr. Who's U.S.A. 1,000.5 a-b\tC\fd"
UNICODE = "Ünïcode ΟΔΟΣ İstanbul ﬁne ２３ ٣٤ x² naïve café_au_lait Straße"


def _tree(root: Path) -> Path:
    folder = root / "corpus"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "_drafts").mkdir()
    (folder / ".git").mkdir()
    files = {
        "a.md": f"# Ascii {ASCII}\n\nsource: https://example.org/a b\n\n{ASCII}. Second sentence here.\n",
        "b.MD": f"# {UNICODE}\n\n{UNICODE}. Another one, e.g. this. Dr. No came.\n\n- item one\n1. item two\n",
        "sub/c.txt": "Plain title\n\nBody line one.\nLine  two   with\tspaces.\n\nSecond paragraph.\n",
        "sub/deeper/d.html": "<title>T</title><h1>H</h1><p>Para one. Para two.</p><div>Más texto.</div>",
        "sub/e (1).markdown": "no title, just words\n",
        "_drafts/x.md": "# Ignored\n\nNot part of it.\n",
        ".git/y.md": "# Ignored\n\nNot part of it.\n",
        "notes.csv": "not,a,document\n",
    }
    for rel, text in files.items():
        (folder / rel).write_text(text, encoding="utf-8")
    (folder / "linked").symlink_to(folder / "sub", target_is_directory=True)  # not entered, as rglob
    (folder / "f.md").symlink_to(folder / "a.md")  # a linked file is read
    return folder


def _rglob_reference(root: Path) -> list[str]:
    """What ``load_corpus`` listed before ``corpus_files``: ``rglob`` and a filter."""
    found = []
    for file in root.rglob("*"):
        if any(part.startswith((".", "_")) for part in file.relative_to(root).parts):
            continue
        if file.is_file() and file.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append(file)
    return [f.relative_to(root).as_posix() for f in sorted(found, key=lambda p: p.as_posix())]


def test_the_listing_follows_the_rules_of_rglob(tmp_path: Path) -> None:
    folder = _tree(tmp_path)
    listed = [rel for rel, _ in corpus_files(folder)]
    assert listed == _rglob_reference(folder)
    assert listed == ["a.md", "b.MD", "f.md", "sub/c.txt", "sub/deeper/d.html", "sub/e (1).markdown"]


def test_the_fingerprint_is_hashed_from_the_bytes_read_not_from_a_second_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _tree(tmp_path)
    expected = corpus_fingerprint(load_corpus(folder))  # every file hashed from disk
    monkeypatch.setenv("DEEPSEARCH_NB_CACHE_DIR", "off")

    def no_second_read(path: Path) -> str:
        raise AssertionError(f"{path} was opened again for its hash")

    monkeypatch.setattr(_fingerprint, "_file_hash", no_second_read)
    _, _, fingerprint = _index_cache.load_indexed(folder)
    assert fingerprint == expected and len(fingerprint["documents"]) == 6


def test_a_file_past_the_size_limit_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _tree(tmp_path)
    size = (folder / "sub" / "c.txt").stat().st_size
    monkeypatch.setattr(_corpus, "_MAX_BYTES", size - 1)
    corpus, digests = read_corpus(folder)
    assert "sub/c.txt" not in [d.path for d in corpus.documents] and "sub/c.txt" not in digests
    monkeypatch.setattr(_corpus, "_MAX_BYTES", size)
    assert "sub/c.txt" in [d.path for d in read_corpus(folder)[0].documents]


def test_ascii_and_unicode_documents_index_as_the_regex_tokenizer_says(tmp_path: Path) -> None:
    folder = _tree(tmp_path)
    corpus = load_corpus(folder)
    assert {d.title.isascii() and d.text.isascii() for d in corpus.documents} == {True, False}  # both paths
    vocab, _, ours = CorpusIndex(corpus).state()
    assert_same_as_bm25s(corpus.documents, vocab, ours)


def test_the_byte_table_finds_the_words_of_the_regex_on_every_ascii_character() -> None:
    for text in (ASCII, "".join(map(chr, range(128))), "A_b c9D -x- __ 0_0"):
        assert [w.decode() for w in text.encode().translate(_ASCII_WORDS).split()] == word_tokens(text)


@pytest.mark.parametrize(
    "text", ["", " ", "a", "a b", " a", "a ", "a  b", "a\tb", "a\nb", "a\u00a0b", "a\u3000b", "x\x85y", "ok. fine"]
)
def test_normalize_space_returns_what_split_and_join_give(text: str) -> None:
    assert normalize_space(text) == " ".join(text.split())


def test_the_only_printable_whitespace_is_the_space() -> None:
    """Why ``normalize_space`` may return a printable string without double spaces as it is."""
    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c.isprintable()]
    assert spaces == [" "]


def test_sentences_with_and_without_abbreviations() -> None:
    assert split_sentences("It rose, e.g. in May. Dr. Who left. Then etc. ended.") == [
        "It rose, e.g. in May.",
        "Dr. Who left.",
        "Then etc. ended.",
    ]
    assert split_sentences("One.  Two!\nThree? four.") == ["One.", "Two!", "Three? four."]


def test_a_single_file_corpus_is_read_and_fingerprinted(tmp_path: Path) -> None:
    folder = _tree(tmp_path)
    corpus, digests = read_corpus(folder / "b.MD")
    assert [d.path for d in corpus.documents] == ["b.MD"] and corpus.root == folder
    assert corpus_fingerprint(corpus, digests) == corpus_fingerprint(corpus)
    assert os.fspath(folder / "b.MD") in {os.fspath(corpus.root / d.path) for d in corpus.documents}


def test_control_characters_are_counted_on_the_bytes_as_the_regex_counts_them() -> None:
    from deepsearch_nb._agents._local._corpus import _CONTROL, _CONTROL_BYTES

    assert [b for b in range(256) if b in _CONTROL_BYTES] == [b for b in range(128) if _CONTROL.match(chr(b))]


def _lookbehind_split(paragraph: str) -> list[str]:
    """``split_sentences`` as it was written first: ``re.split`` on a lookbehind pattern."""
    import re

    from deepsearch_nb._agents._local._text import _protect

    end = re.compile(r"(?<=[.!?])[\"'”’)\]]?\s+(?=[\"'“‘(\[]?[A-Z0-9])")
    parts = end.split(_protect(normalize_space(paragraph)))
    return [p.replace("\x00", ".").strip() for p in parts if p.strip()]


def test_sentences_are_cut_where_the_lookbehind_pattern_cut_them() -> None:
    texts = [p for d in load_corpus(None).documents for p in d.paragraphs]
    texts += ["a.. B", 'Hi. "Yo" ok.) Then. 3 x!? (A) b.’ C', "e.g. Foo. x", "end.", "A. B. C.", ".  A", "a.\u00a0B"]
    texts += ["Dr.\tWho? 'Yes.' ‘No.’ “Q”", "x.\x00 Y", "No. 5 is. Mrs. Smith! 1. 2. 3.", ASCII, UNICODE, ""]
    for text in texts:
        assert split_sentences(text) == _lookbehind_split(text), text


def test_64_bit_pair_keys_give_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large corpora sort 64-bit (term, document) keys; small ones 32-bit: the same matrix either way."""
    from deepsearch_nb._agents._local import _index

    corpus = load_corpus(_tree(tmp_path))
    narrow = CorpusIndex(corpus).state()[2].scores
    monkeypatch.setattr(_index, "_key_type", lambda n_vocab, n_docs: np.int64)
    wide = CorpusIndex(corpus).state()[2].scores
    for key in ("data", "indices", "indptr"):
        assert wide[key].dtype == narrow[key].dtype and np.array_equal(wide[key], narrow[key]), key

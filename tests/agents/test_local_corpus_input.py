"""Issue 9, finding 11 (part): what the local agent's corpus accepts, and files that are not text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from deepsearch_nb import ConfigurationError, LocalResearchAgent

from .test_local_corpus import _minimal_pdf

GOOD = "# Heat pumps\n\nModern heat pumps keep working at outdoor temperatures well below freezing.\n"


@pytest.mark.parametrize("corpus", [123, 4.5, ["docs"], {"path": "docs"}, b"docs"])
def test_finding11_a_corpus_that_is_not_a_path_is_a_configuration_error(corpus: object) -> None:
    with pytest.raises(ConfigurationError, match=r"corpus must be the path of a folder .* str or pathlib.Path"):
        LocalResearchAgent(corpus=corpus)  # type: ignore[arg-type]


def test_finding11_binary_files_are_skipped_with_a_warning_naming_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (tmp_path / "latin1.md").write_bytes("# Caf\xe9\n\nLe caf\xe9 est chaud.\n".encode("latin-1"))
    (tmp_path / "controls.txt").write_text("Title\n\n" + "\x1b[31m\x07\x01" * 50 + " text.\n", encoding="utf-8")
    (tmp_path / "paper.pdf").write_bytes(_minimal_pdf(["Tidal turbines convert moving water into power."], "Tidal"))
    with caplog.at_level(logging.WARNING, logger="deepsearch_nb"):
        agent = LocalResearchAgent(corpus=tmp_path)
    assert sorted(d.path for d in agent.corpus.documents) == ["good.md", "paper.pdf"]  # PDF stays supported
    skipped = {Path(path).name: why for path, why in agent.corpus.skipped}
    assert set(skipped) == {"image.txt", "latin1.md", "controls.txt"}
    assert "NUL" in skipped["image.txt"] and "not UTF-8" in skipped["latin1.md"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert all(name in logged for name in skipped)
    for document in agent.corpus.documents:
        assert not any(ord(c) < 0x20 and c not in "\t\n" for s in document.sentences for c in s)


def test_finding11_a_stray_control_character_in_a_text_file_becomes_a_space(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD.replace("keep working", "keep\x0bworking"), encoding="utf-8")
    sentence = LocalResearchAgent(corpus=tmp_path).corpus.documents[0].sentences[0]
    assert "keep working" in sentence and "\x0b" not in sentence


def test_finding11_a_corpus_of_only_binary_files_says_so(tmp_path: Path) -> None:
    (tmp_path / "blob.md").write_bytes(b"\x00\x01\x02")
    with pytest.raises(ConfigurationError, match=r"1 skipped as not text"):
        LocalResearchAgent(corpus=tmp_path)

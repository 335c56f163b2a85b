"""The local agent's saved index (issue 16): a second agent on an unchanged folder loads it; any change to
the folder (an edit, a new or a removed file) is picked up; the cache is never an error and can be off.

The tests' cache folder is a temporary one (tests/conftest.py sets DEEPSEARCH_NB_CACHE_DIR); each test
points it at its own folder to count entries.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deepsearch_nb import LocalResearchAgent

from ._support import run_round

NO_STOPS = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
QUESTION = "How do heat pumps and district heating compare in cold climates?"


def _corpus(root: Path) -> Path:
    folder = root / "corpus"
    folder.mkdir()
    (folder / "heat_pumps.md").write_text(
        "# Heat pumps in cold climates\n\nModern heat pumps keep working well below freezing. "
        "Their efficiency falls as the air gets colder.\n",
        encoding="utf-8",
    )
    (folder / "district.txt").write_text(
        "District heating networks\n\nDistrict heating moves hot water from a central plant to many buildings. "
        "Large heat pumps can feed district heating networks.\n",
        encoding="utf-8",
    )
    (folder / "_notes.md").write_text("# Not part of the corpus\n\nIgnored by the agent.\n", encoding="utf-8")
    return folder


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DEEPSEARCH_NB_CACHE_DIR", str(folder))
    return folder


def _entries(cache: Path) -> list[Path]:
    index = cache / "index"
    return [e for e in index.iterdir() if not e.name.startswith(".")] if index.exists() else []


def _touch_later(path: Path) -> None:
    """A new modification time even on a file system with coarse timestamps."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


async def test_a_second_agent_on_an_unchanged_folder_loads_the_saved_index(tmp_path: Path, cache: Path) -> None:
    folder = _corpus(tmp_path)
    first = LocalResearchAgent(folder)
    assert len(_entries(cache)) == 1
    # Proof that the second agent does not read the files: an edit that keeps size and mtime goes unseen.
    doc = folder / "heat_pumps.md"
    stat = doc.stat()
    doc.write_text(doc.read_text(encoding="utf-8").replace("Modern", "Recent"), encoding="utf-8")
    os.utime(doc, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = LocalResearchAgent(folder)
    assert second.corpus == first.corpus
    assert second.spec() == first.spec()  # the content fingerprint came from the entry, as first read
    assert len(_entries(cache)) == 1
    a = await run_round(first, QUESTION, "c1", config=NO_STOPS)
    b = await run_round(second, QUESTION, "c1", config=NO_STOPS)
    assert b.report == a.report and "heat pump" in a.report.lower()


def test_an_edited_file_is_picked_up(tmp_path: Path, cache: Path) -> None:
    folder = _corpus(tmp_path)
    first = LocalResearchAgent(folder)
    assert first.index.idf("geothermal") == 0.0
    doc = folder / "district.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + "Geothermal wells heat some networks.\n", encoding="utf-8")
    _touch_later(doc)
    second = LocalResearchAgent(folder)
    assert second.index.idf("geothermal") > 0.0
    assert second.spec()["config"]["corpus_fingerprint"] != first.spec()["config"]["corpus_fingerprint"]
    assert len(_entries(cache)) == 2
    assert LocalResearchAgent(folder).index.idf("geothermal") > 0.0  # and the new state is cached in turn


def test_added_and_removed_files_are_picked_up(tmp_path: Path, cache: Path) -> None:
    folder = _corpus(tmp_path)
    assert len(LocalResearchAgent(folder).corpus) == 2
    (folder / "sub").mkdir()
    (folder / "sub" / "storage.md").write_text("# Storage\n\nHot water tanks store heat for hours.\n", "utf-8")
    assert len(LocalResearchAgent(folder).corpus) == 3
    (folder / "heat_pumps.md").unlink()
    assert [d.path for d in LocalResearchAgent(folder).corpus.documents] == ["district.txt", "sub/storage.md"]
    (folder / "_notes.md").write_text("# Still ignored\n\nChanged, but not part of the corpus.\n", "utf-8")
    entries = len(_entries(cache))
    LocalResearchAgent(folder)
    assert len(_entries(cache)) == entries  # a file the corpus ignores does not change its key


def test_a_damaged_entry_is_rebuilt(tmp_path: Path, cache: Path) -> None:
    folder = _corpus(tmp_path)
    first = LocalResearchAgent(folder)
    (entry,) = _entries(cache)
    for part in entry.iterdir():
        if part.is_file():
            part.write_bytes(b"\x00garbage")
    again = LocalResearchAgent(folder)
    assert again.corpus == first.corpus and again.spec() == first.spec()
    assert LocalResearchAgent(folder).corpus == first.corpus  # the rewritten entry loads


def test_the_cache_can_be_off_and_an_unwritable_one_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _corpus(tmp_path)
    monkeypatch.setenv("DEEPSEARCH_NB_CACHE_DIR", "off")
    assert len(LocalResearchAgent(folder).corpus) == 2
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("DEEPSEARCH_NB_CACHE_DIR", str(blocker))
    assert len(LocalResearchAgent(folder).corpus) == 2


def test_the_default_cache_is_under_the_user_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _corpus(tmp_path)
    monkeypatch.delenv("DEEPSEARCH_NB_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    LocalResearchAgent(folder)
    assert len(list((tmp_path / "xdg" / "deepsearch-nb" / "index").iterdir())) == 1

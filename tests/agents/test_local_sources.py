"""Issue 18: the notebook's own data as sources (DataFrames, strings, files and folders, indexed together)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from deepsearch_nb import ConfigurationError, LocalResearchAgent, frame, reproduce, research_sync
from deepsearch_nb.runtime import RunManager

NO_HITL = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
TOPICS = ("billing", "login", "shipping", "refunds", "search")


def _survey(rows: int = 1000) -> pd.DataFrame:
    """Survey answers with a numeric score; row 742 alone mentions the flux capacitor."""
    answers = [
        f"The {TOPICS[i % 5]} page was slow for customer {i}. "
        f"Support took {i % 7 + 1} days to answer about {TOPICS[i % 5]}."
        for i in range(rows)
    ]
    answers[742] = (
        "The flux capacitor overheated during the warehouse night shift. "
        "Flux capacitor failures stopped every conveyor for two hours."
    )
    return pd.DataFrame(
        {"id": [f"r{i}" for i in range(rows)], "answer": answers, "score": [i % 5 + 0.5 for i in range(rows)]},
        index=range(1000, 1000 + rows),
    )


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "capacitors.md").write_text(
        "# Capacitor maintenance\n\nA flux capacitor needs cooling checks every night shift in a warehouse.\n",
        encoding="utf-8",
    )
    (folder / "ops.txt").write_text("Operations\n\nConveyor stops cost the warehouse two hours of output.\n")
    return folder


def _cited(report: Any) -> dict[str, dict[str, Any]]:
    citations = report.doc.get("citations") or {}
    return {str(v["url"]): v for v in citations.values()} if isinstance(citations, dict) else {}


def test_a_dataframe_of_1000_rows_and_a_folder_are_researched_together(tmp_path: Path) -> None:
    df = _survey()
    folder = _folder(tmp_path)
    agent = LocalResearchAgent(sources=[frame(df, name="df"), str(folder) + "/"])
    assert len(agent.corpus.documents) == 1002
    report = research_sync(
        "Why did the flux capacitor overheat in the warehouse?",
        agent=agent,
        manager=RunManager(),
        agent_config=NO_HITL,
    )
    assert report.status == "COMPLETED"
    urls = [s.url for s in report.sources]
    assert "df.loc[1742]" in urls  # the row's index label, not its position
    assert any(u.endswith("reports/capacitors.md") for u in urls)
    assert "df.loc[1742]" in report.markdown
    assert agent.spec()["config"]["sources"] == ["df (1000 rows)", f"{folder}/ (2 files)"]
    check = report.doc["citation_check"]["counts"]
    assert check["missing_source"] == 0 and check["verified"] >= 1  # rows are checked against their text


def test_citations_of_rows_resolve_to_the_right_row(tmp_path: Path) -> None:
    df = _survey()
    report = research_sync(
        "Which pages were slow for billing customers, and how long did support take?",
        sources=[frame(df, text="answer", title="id", name="df"), _folder(tmp_path)],
        manager=RunManager(),
        agent_config=NO_HITL,
    )
    rows = {u: c for u, c in _cited(report).items() if u.startswith("df.loc[")}
    assert rows, "some rows are cited"
    for url, cited in rows.items():
        match = re.fullmatch(r"df\.loc\[(\d+)\]", url)
        assert match is not None, url
        row = df.loc[int(match.group(1))]
        assert cited["title"] == row["id"]  # the title column
        for sentence in cited["sentences"]:
            assert sentence in row["answer"] or sentence == f"score: {row['score']}."  # its text or its fields


def test_numbers_in_other_columns_are_kept() -> None:
    df = pd.DataFrame({"text": ["Heat pumps work below freezing."], "cop": [3.2], "units": [12]})
    doc = LocalResearchAgent(sources=[frame(df, name="pumps")]).corpus.documents[0]
    assert doc.url == "pumps.loc[0]" and doc.title == "pumps.loc[0]"
    assert doc.paragraphs[-1] == "cop: 3.2; units: 12."


def test_a_dataframe_without_a_text_column_names_the_columns_it_has() -> None:
    df = pd.DataFrame({"year": [2021, 2022], "mwh": [1.5, 2.5]})
    with pytest.raises(ConfigurationError, match=r"df has no text column.*year \(int64\), mwh \(float64\)"):
        LocalResearchAgent(sources=[frame(df, name="df")])
    with pytest.raises(ConfigurationError, match=r"no column 'notes'; its columns are year \(int64\), mwh"):
        frame(df, text="notes")


def test_several_text_columns_ask_which_one() -> None:
    df = pd.DataFrame({"summary": ["A long sentence about storage here."], "detail": ["Another long one about it."]})
    with pytest.raises(ConfigurationError, match=r"several text columns \(summary, detail\)"):
        LocalResearchAgent(sources=[df])


def test_an_id_column_does_not_hide_the_single_prose_column() -> None:
    df = pd.DataFrame({"id": ["a1", "a2"], "answer": ["Batteries degrade when hot.", "Grids need storage now."]})
    docs = LocalResearchAgent(sources=[df]).corpus.documents
    assert [d.url for d in docs] == ["sources[0].loc[0]", "sources[0].loc[1]"]  # unnamed: its place in the list


def test_strings_files_and_text_together(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nSodium batteries avoid lithium supply risks.\n", encoding="utf-8")
    text = "Pumped hydro stores energy by moving water uphill.\n\nIt has run for a century."
    docs = LocalResearchAgent(sources=[str(notes), text]).corpus.documents
    assert [d.url for d in docs][1] == "sources[1]"
    assert docs[0].title == "Notes" and docs[1].sentences[0].startswith("Pumped hydro")


def test_a_missing_path_is_an_error_not_a_document(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"'nots\.md' looks like a path but does not exist"):
        LocalResearchAgent(sources=["nots.md"])
    with pytest.raises(ConfigurationError, match=r"corpus= or sources=, not both"):
        LocalResearchAgent(tmp_path, sources=["some text here."])
    with pytest.raises(ConfigurationError, match=r"sources\[0\] is a int"):
        LocalResearchAgent(sources=[3])


def test_a_report_from_notebook_data_cannot_be_rebuilt_alone() -> None:
    df = pd.DataFrame({"answer": ["Storage smooths solar output at noon."]})
    report = research_sync("storage", sources=[frame(df, name="df")], manager=RunManager(), agent_config=NO_HITL)
    assert report.doc["agent"]["spec"]["config"]["sources"] == ["df (1 row)"]
    evidence = report.doc["evidence"]["1"]
    assert evidence["url"] == "df.loc[0]" and evidence["passages"][0]["found"] is True  # the row, shown
    with pytest.raises(ConfigurationError, match=r"notebook's own data \(df \(1 row\)\)"):
        reproduce(report)


def test_pandas_is_not_a_core_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys, deepsearch_nb\n"
        "from deepsearch_nb import frame, LocalResearchAgent\n"
        "import deepsearch_nb._ui._sources\n"
        "LocalResearchAgent(sources=['Pumped hydro stores energy by moving water uphill.'])\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

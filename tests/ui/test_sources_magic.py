"""Issue 18: the notebook's variables as sources, by name (``%%deepsearch --sources``) and by identity."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pandas as pd
import pytest

from deepsearch_nb import frame
from deepsearch_nb._ui import _ipython
from deepsearch_nb._ui._magics import deepsearch_cell_magic

NOTES = "Sodium-ion cells avoid lithium and cobalt.\n\nThey suit stationary storage well."


def test_magic_sources_resolve_names_in_the_user_namespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nFlow batteries store energy in tanks of electrolyte.\n")
    monkeypatch.chdir(tmp_path)
    incidents = pd.DataFrame({"report": ["A fire started in container 7 after a coolant leak."]}, index=[42])
    namespace = {"incidents": incidents, "memo": NOTES}
    monkeypatch.setattr(_ipython, "user_namespace", lambda: namespace)

    async def main() -> list[str]:
        handle = deepsearch_cell_magic("--sources incidents,notes.md,memo --no-hitl", "Why did container 7 burn?")
        report = await handle
        return [s.url for s in report.sources]

    urls = asyncio.run(main())
    assert "incidents.loc[42]" in urls


def test_research_names_a_dataframe_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepsearch_nb._ui._sources import named_sources

    df = pd.DataFrame({"answer": ["Storage smooths solar output at noon."]})
    chosen = frame(df, text="answer")
    named = named_sources([df, chosen, NOTES, "reports/"], {"survey": df, "memo": NOTES})
    assert [getattr(s, "name", None) for s in named] == ["survey", "survey", "memo", None]
    assert named[3] == "reports/"  # a path literal stays a path

"""The shipped notebooks: the headless ones pass nbval, and an executed, saved notebook keeps the report.

The committed outputs come from a real execution; nbval re-runs the notebooks and compares them
(cells marked ``# NBVAL_IGNORE_OUTPUT`` hold the volatile panel/report outputs).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import deepsearch_nb

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
HEADLESS = ["quickstart.ipynb", "reproducible_report.ipynb"]
REPORT_MIME = "application/vnd.deepsearch.report+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# What the shipped notebooks type: a name that vanishes from the root must fail here, not skip.
NOTEBOOK_NAMES = ("research", "stats", "reproduce", "Report", "DEMO_QUESTION", "DEMO_ANSWERS", "LocalResearchAgent")


def test_the_names_the_notebooks_use_are_public() -> None:
    missing = [name for name in NOTEBOOK_NAMES if name not in deepsearch_nb.__all__ or not hasattr(deepsearch_nb, name)]
    assert not missing, f"the notebooks use deepsearch_nb.{missing} which the root no longer exports"


def test_notebooks_are_valid_and_the_interactive_one_is_unscripted() -> None:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nbformat.validate(nbformat.read(path, as_version=4))
    interactive = nbformat.read(NOTEBOOKS / "interactive_hitl.ipynb", as_version=4)
    code = "\n".join(c.source for c in interactive.cells if c.cell_type == "code")
    assert "answers=" not in code and "answer_timeout" not in code  # it waits for a person
    assert "pacing=" in code
    assert all(not c.get("outputs") for c in interactive.cells if c.cell_type == "code")


def test_committed_outputs_hold_the_report_and_no_widget() -> None:
    for name in HEADLESS:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert any(REPORT_MIME in o.get("data", {}) for o in outputs), name
        assert not any(WIDGET_MIME in o.get("data", {}) for o in outputs), name
        assert "widgets" not in nb.metadata, name  # no dead widget state saved with the file


@pytest.mark.kernel
def test_headless_notebooks_pass_nbval() -> None:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval",
        "--nbval-current-env",
        *(str(NOTEBOOKS / name) for name in HEADLESS),
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.mark.kernel
def test_an_executed_and_saved_quickstart_keeps_the_report_not_the_panel(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    saved = tmp_path / "quickstart.ipynb"
    nbformat.write(nb, saved)
    reread = nbformat.read(saved, as_version=4)

    research_cell = next(c for c in reread.cells if c.cell_type == "code" and "research(" in c.source)
    data: list[dict[str, Any]] = [o.get("data", {}) for o in research_cell.outputs]
    assert len(data) == 1, "one output: the panel's slot, now the report"
    assert data[0][REPORT_MIME]["status"] == "COMPLETED"
    assert {"text/html", "text/markdown", "text/plain"} <= set(data[0])
    every = [o for c in reread.cells if c.cell_type == "code" for o in c.outputs]
    assert not any(WIDGET_MIME in o.get("data", {}) for o in every)
    last = reread.cells[-1].outputs[0]
    assert last["data"]["text/plain"] == "True"  # stats().is_idle

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
HEADLESS = ["quickstart.ipynb", "reproducible_report.ipynb", "report_templates.ipynb"]
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


# --- papermill -----------------------------------------------------------------------------------


def test_the_reproducible_notebook_has_a_parameters_cell_and_a_committed_transcript() -> None:
    nb = nbformat.read(NOTEBOOKS / "reproducible_report.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and all(f"{name} =" in tagged[0].source for name in ("question", "answers", "corpus"))
    recording = NOTEBOOKS / "transcripts" / "battery_storage.jsonl"
    assert recording.read_text(encoding="utf-8").splitlines()[-1].startswith('{"type": "end"')


def _papermill(tmp_path: Path, name: str, parameters: dict[str, Any]) -> nbformat.NotebookNode:
    """Run the reproducible notebook with papermill (a subprocess: its own warnings are not this suite's)."""
    import json

    out = tmp_path / f"{name}.ipynb"
    params = tmp_path / f"{name}.json"
    params.write_text(json.dumps(parameters), encoding="utf-8")
    command = [sys.executable, "-m", "papermill", str(NOTEBOOKS / "reproducible_report.ipynb"), str(out)]
    command += ["-f", str(params), "--cwd", str(NOTEBOOKS), "-k", "python3", "--no-progress-bar"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    notebook: nbformat.NotebookNode = nbformat.read(out, as_version=4)
    return notebook


def _reports(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [
        o["data"][REPORT_MIME]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if REPORT_MIME in o.get("data", {})
    ]


@pytest.mark.kernel
def test_papermill_runs_the_notebook_with_two_parameter_sets_and_the_report_follows(tmp_path: Path) -> None:
    corpus = tmp_path / "tea"
    corpus.mkdir()
    (corpus / "origins.md").write_text("# Tea origins\n\nTea drinking began in China thousands of years ago.\n")
    (corpus / "trade.txt").write_text("Tea trade\n\nThe tea trade carried tea along the Silk Road to Europe.\n")
    sets: dict[str, dict[str, Any]] = {
        "storage": {
            "question": "How do grid batteries fail?",
            "answers": ["Fire safety only.", "accept"],
            "sections": 2,
        },
        "tea": {
            "question": "How did tea spread?",
            "answers": ["From China to Europe.", "revise: add a section on ports", "accept"],
            "corpus": str(corpus),
            "sections": 3,
        },
    }
    for name, parameters in sets.items():
        replayed, fresh, again = _reports(_papermill(tmp_path, name, parameters))
        assert replayed["question"] == "What should a utility planner know about grid-scale battery storage?"
        assert fresh["question"] == again["question"] == parameters["question"]
        answers = parameters["answers"]
        assert len(fresh["hitl"]) == len(answers) and fresh["status"] == "COMPLETED"
        assert fresh["hitl"][0]["message"] == answers[0]
        assert fresh["report_markdown"] == again["report_markdown"]
        documents = fresh["provenance"]["corpus"]["documents"]
        assert (documents == 2) == (name == "tea")
        if name == "tea":
            assert {s["url"] for s in fresh["sources"]} <= {"origins.md", "trade.txt"}

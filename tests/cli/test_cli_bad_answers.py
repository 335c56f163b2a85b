"""Issue 9, finding 11 (part): a broken outline as ``--answer`` fails the CLI with the JSON error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "deepsearch_nb.cli"]


def test_finding11_broken_outline_json_as_an_answer_exits_nonzero_naming_the_error(tmp_path: Path) -> None:
    broken = '{"title":"Mine","sections":[{"title":"A"},]}'
    argv = [*CLI, "run", "grid batteries", "--no-input", "--answer", "Europe", "--answer", broken]
    argv += ["--out", str(tmp_path / "r.md")]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert result.returncode != 0, result.stdout
    assert "not valid JSON" in result.stderr and "line 1, column 43" in result.stderr
    assert "scripted answer: accepted\n" not in result.stdout  # never taken as "accept"

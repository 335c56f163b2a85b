"""``deepsearch-nb run --template`` (issue 17): a shipped template by name shapes the report; a missing
file is refused before anything runs, with its path."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "deepsearch_nb.cli"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=cwd)


def test_run_with_a_shipped_template_follows_its_sections(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    result = cli(
        "run",
        "grid batteries for utilities",
        "--no-hitl",
        "--template",
        "technology-assessment",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "template: technology-assessment" in result.stdout
    sections = re.findall(r"^# \d+\. (.+)$", out.read_text(encoding="utf-8"), re.MULTILINE)
    assert sections == ["Overview", "Capabilities and Limits", "Alternatives", "Risks", "Verdict"]


def test_a_missing_template_file_is_refused_with_its_path(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    result = cli("run", "grid batteries", "--no-hitl", "--template", "house/brief.md", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert str(tmp_path / "house" / "brief.md") in result.stderr and "does not exist" in result.stderr
    assert not out.exists()

"""``deepsearch-nb replay`` and ``deepsearch-nb export``, run as a user runs them (subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deepsearch_nb import Report

CLI = [sys.executable, "-m", "deepsearch_nb.cli"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=cwd)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    result = cli("demo", "--out-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "transcript.jsonl"


def test_replay_of_the_demo_transcript_is_identical(demo: Path, tmp_path: Path) -> None:
    result = cli("replay", str(demo), "--out", "again.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recording vs replay: identical" in result.stdout
    assert Report.load(tmp_path / "again.json").markdown + "\n" == (tmp_path / "report.md").read_text()


def test_replay_with_another_answer_says_where_it_diverged(demo: Path, tmp_path: Path) -> None:
    answers = ["Focus on costs, fire safety and recycling for a utility in the United States.", "accept"]
    result = cli("replay", str(demo), *(f"--answer={a}" for a in answers), "--out", "r.json", cwd=tmp_path)
    assert result.returncode == 1
    assert "diverged" in result.stdout and "stop 2" in result.stdout
    assert Report.load(tmp_path / "r.json").status == "FAILED"


def test_export_a_saved_report_to_each_format(demo: Path, tmp_path: Path) -> None:
    assert cli("replay", str(demo), "--out", "r.json", cwd=tmp_path).returncode == 0
    for fmt in ("html", "md", "docx"):
        result = cli("export", "r.json", "--to", fmt, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / f"r.{fmt}").stat().st_size > 1000
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and 'href="#source-1"' in page
    result = cli("export", "missing.json", "--to", "html", cwd=tmp_path)
    assert result.returncode == 2 and "missing.json" in result.stderr

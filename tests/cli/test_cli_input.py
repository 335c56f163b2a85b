"""The CLI checks what it is given before a run starts, and never loses what a run received (issue 9,
item 11): bad --config JSON and an --out under a file are clear errors; when the answers run out the
report and the transcript are still written, then it exits 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "deepsearch_nb.cli"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL
    )


def test_config_that_is_not_json_is_a_clear_error(tmp_path: Path) -> None:
    result = cli("run", "q", "--config", "{not json", "--no-input", "--out", str(tmp_path / "r.md"))
    assert result.returncode == 2
    assert "--config is not valid JSON" in result.stderr and "Traceback" not in result.stderr


def test_an_out_path_under_a_file_is_refused_before_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = cli("run", "q", "--no-hitl", "--out", str(blocker / "r.md"))
    assert result.returncode == 2
    assert "is a file, not a folder" in result.stderr and "Traceback" not in result.stderr
    assert "researching" not in result.stdout  # refused before anything ran


def test_answers_running_out_still_write_what_was_received(tmp_path: Path) -> None:
    out, transcript = tmp_path / "r.md", tmp_path / "t.jsonl"
    result = cli("run", "grid batteries", "--no-input", "--out", str(out), "--transcript", str(transcript))
    assert result.returncode == 2
    assert "no answer is left" in result.stderr
    assert out.exists() and transcript.exists()
    assert "generate_questions" in transcript.read_text()  # the clarification that was asked is kept

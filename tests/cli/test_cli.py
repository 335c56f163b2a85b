"""The deepsearch-nb command, run as a user runs it: a subprocess, and a real terminal for answers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ptyprocess import PtyProcessUnicode

from deepsearch_nb.runtime import read_transcript

CLI = [sys.executable, "-m", "deepsearch_nb.cli"]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_demo_writes_a_cited_report_and_a_replayable_transcript(tmp_path: Path) -> None:
    result = cli("demo", "--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "report.md").read_text()
    assert "[citation:1]" in report and "# Reference Articles" in report
    assert "section 1 of" in result.stdout and "→ scripted answer: revise_comment" in result.stdout
    transcript = read_transcript(tmp_path / "transcript.jsonl")
    assert len(transcript.rounds) == 4  # clarification, outline, revised outline, report
    assert transcript.complete and [a["by"] for a in transcript.answers] == ["scripted"] * 3


def test_scripted_answers_without_hitl_and_a_custom_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Tea origins\n\nTea drinking began in China thousands of years ago.\n")
    (corpus / "b.txt").write_text("Tea trade\n\nThe tea trade spread tea along the Silk Road to Europe.\n")
    out = tmp_path / "r.md"
    result = cli("run", "history of tea trade", "--corpus", str(corpus), "--no-hitl", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "a.md" in out.read_text() or "b.txt" in out.read_text()


def test_a_question_with_no_answer_left_fails_clearly(tmp_path: Path) -> None:
    result = cli("run", "grid batteries", "--no-input", "--out", str(tmp_path / "r.md"))
    assert result.returncode == 2
    assert "no answer is left: pass more --answer options" in result.stderr


def test_bad_options_say_what_to_fix(tmp_path: Path) -> None:
    result = cli("run", "q", "--corpus", str(tmp_path / "missing"))
    assert result.returncode == 2 and "deepsearch-nb:" in result.stderr
    result = cli("run", "q", "--config", "[1]", "--no-input")
    assert result.returncode != 0 and "--config must be a JSON object" in result.stderr


class Terminal:
    """A process on a real pseudo-terminal; ``expect`` looks only at output after the previous match."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = PtyProcessUnicode.spawn(argv, dimensions=(40, 200))
        self.output = ""
        self.position = 0

    def expect(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (found := self.output.find(text, self.position)) < 0:
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never appeared; got: {self.output[-2000:]}")
            try:
                self.output += self.proc.read(4096)
            except EOFError:
                pytest.fail(f"the CLI exited before {text!r}: {self.output[-2000:]}")
        self.position = found + len(text)

    def type(self, line: str) -> None:
        self.proc.write(line + "\r")


def test_answering_in_a_real_terminal(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    term = Terminal([*CLI, "run", "grid-scale battery storage", "--out", str(out)])
    try:
        term.expect("Your answer")
        term.type("costs and safety in the United States")
        term.expect("type what to change")
        term.type("add a section on recycling")
        term.expect("Recycling")  # the revised outline shows the new section
        term.expect("type what to change")
        term.type("accept")
        term.expect("report (COMPLETED")
    finally:
        term.proc.terminate(force=True)
    assert "[citation:" in out.read_text()


def test_the_report_is_the_same_for_the_same_question_and_answers(tmp_path: Path) -> None:
    for name in ("one", "two"):
        assert cli("demo", "--out-dir", str(tmp_path / name)).returncode == 0
    assert (tmp_path / "one" / "report.md").read_text() == (tmp_path / "two" / "report.md").read_text()
    first, second = (read_transcript(tmp_path / name / "transcript.jsonl").chunks() for name in ("one", "two"))
    assert [c["content"] if isinstance(c, dict) else c for c in first] == [
        c["content"] if isinstance(c, dict) else c for c in second
    ]


def test_a_key_never_reaches_the_report_or_the_transcript(tmp_path: Path) -> None:
    key = "sk-cli-0123456789abcdef"
    config = json.dumps({"outline_interaction_enabled": False, "llm_config": {"general": {"api_key": key}}})
    out, transcript = tmp_path / "r.md", tmp_path / "t.jsonl"
    # The agent quotes the question in its report, so a key pasted into it is echoed back.
    question = f"storage costs (my key is {key})"
    result = cli("run", question, "--no-hitl", "--config", config, "--out", str(out), "--transcript", str(transcript))
    assert result.returncode == 0, result.stderr
    assert "***" in out.read_text()
    assert key not in out.read_text() + transcript.read_text()

"""Issue 18: the server extension lists saved runs under the server's root, and never anything outside it."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from deepsearch_nb import REPORT_MIME, LocalResearchAgent, research_sync
from deepsearch_nb._jupyter._saved import list_saved_runs, read_saved_report
from deepsearch_nb.runtime import RunManager

NO_HITL = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}


def _report(question: str, transcripts: Path | None) -> dict[str, Any]:
    agent = LocalResearchAgent(sources=["Pumped hydro stores energy by moving water uphill. It lasts decades."])
    transcript: Path | bool = False if transcripts is None else transcripts
    report = research_sync(question, agent=agent, manager=RunManager(), agent_config=NO_HITL, transcript=transcript)
    doc: dict[str, Any] = report.doc
    return doc


def _notebook(doc: dict[str, Any]) -> dict[str, Any]:
    output = {"output_type": "display_data", "data": {REPORT_MIME: doc, "text/plain": "report"}, "metadata": {}}
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# Storage"},
        {"cell_type": "code", "metadata": {}, "source": "await research(...)", "outputs": [output]},
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root/ with a notebook holding a report, a report file and a transcript; outside/ with a report, linked
    into root/ as a file and as a folder."""
    base = tmp_path_factory.mktemp("runs")
    root, outside = base / "root", base / "outside"
    (root / "work").mkdir(parents=True)
    outside.mkdir()
    transcripts = root / "work" / ".deepsearch" / "transcripts"  # where a kernel started in work/ writes them
    transcripts.mkdir(parents=True)
    inside = _report("What does pumped hydro store?", transcripts)
    secret = _report("The outside question", None)
    (root / "work" / "storage.ipynb").write_text(json.dumps(_notebook(inside)), encoding="utf-8")
    (root / "saved.json").write_text(json.dumps(inside), encoding="utf-8")
    (outside / "secret.json").write_text(json.dumps(secret), encoding="utf-8")
    (outside / "secret.ipynb").write_text(json.dumps(_notebook(secret)), encoding="utf-8")
    (root / "linked.json").symlink_to(outside / "secret.json")
    (root / "linked-folder").symlink_to(outside, target_is_directory=True)
    return root


def test_saved_runs_of_the_root_are_listed_by_notebook(tree: Path) -> None:
    runs = {(r.kind, r.path): r for r in list_saved_runs(tree)}
    assert set(runs) == {
        ("notebook", "work/storage.ipynb"),
        ("report", "saved.json"),
        ("transcript", next(p for k, p in runs if k == "transcript")),
    }
    notebook = runs[("notebook", "work/storage.ipynb")]
    assert (notebook.notebook, notebook.cell, notebook.status) == ("work/storage.ipynb", 1, "COMPLETED")
    transcript = next(r for (k, _), r in runs.items() if k == "transcript")
    assert transcript.path.startswith("work/.deepsearch/transcripts/") and transcript.notebook == "work"
    assert transcript.status == "COMPLETED" and transcript.question == "What does pumped hydro store?"


def test_a_report_outside_the_root_is_never_listed_nor_read(tree: Path) -> None:
    listed = json.dumps([r.to_json() for r in list_saved_runs(tree)])
    assert "The outside question" not in listed and "linked" not in listed
    for path in ("linked.json", "linked-folder/secret.json", "../outside/secret.json", str(tree.parent / "outside")):
        with pytest.raises(PermissionError):
            read_saved_report(tree, path)
    assert read_saved_report(tree, "work/storage.ipynb", 1)["question"] == "What does pumped hydro store?"  # type: ignore[index]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.kernel
def test_the_installed_server_extension_serves_the_list(tree: Path, tmp_path: Path) -> None:
    """A plain ``jupyter server`` loads the extension from the config the wheel installs; login required."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    cmd = [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", "--ServerApp.ip=127.0.0.1"]
    cmd += ["--LabApp.extension_manager=readonly", "--LabApp.news_url=None"]
    cmd += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    cmd += [f"--ServerApp.root_dir={tree}"]
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/deepsearch-nb/runs"
    try:
        deadline = time.monotonic() + 90
        body = None
        while time.monotonic() < deadline and body is None:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    body = json.loads(response.read())
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert body is not None, (tmp_path / "server.log").read_text()
        assert {r["path"] for r in body["runs"]} >= {"work/storage.ipynb", "saved.json"}
        assert "outside" not in json.dumps(body)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)  # no token
        assert refused.value.code == 403
        refused.value.close()
        forbidden = urllib.request.Request(
            f"http://127.0.0.1:{port}/deepsearch-nb/report?path=linked.json",
            headers={"Authorization": f"token {token}"},
        )
        with pytest.raises(urllib.error.HTTPError) as outside:
            urllib.request.urlopen(forbidden, timeout=10)
        assert outside.value.code == 403
        outside.value.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # its own process group, started above
        proc.wait(timeout=20)
        log.close()


def test_the_development_install_enables_the_server_extension() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    line = next(line for line in (listing.stdout + listing.stderr).splitlines() if "deepsearch_nb" in line)
    assert "enabled" in line


def _transcript(folder: Path, name: str, *lines: dict[str, Any]) -> None:
    header = {"type": "header", "format": "deepsearch-nb-transcript", "version": 1, "question": f"Q {name}"}
    header |= {"conversation_id": name, "started_at": "2026-12-01T10:00:00.000Z"}
    text = "\n".join(json.dumps(line) for line in (header, *lines))
    (folder / f"{name}.jsonl").write_text(text + "\n", encoding="utf-8")


def test_a_paused_saved_run_says_it_can_be_resumed_and_what_it_asked(tmp_path: Path) -> None:
    """A transcript stopped at an unanswered question, or cut off by a dead kernel, is resumable (with
    the question it waits on); an ended one is not; a report saved while waiting is, with its question."""
    transcripts = tmp_path / "work" / ".deepsearch" / "transcripts"
    transcripts.mkdir(parents=True)
    chunk = {"type": "chunk", "round": 1, "t": 0.1, "chunk": {"content": "planning"}}
    question = {"type": "question", "stop": 1, "t": 0.2, "stage": "outline_review", "prompt": "Review the outline"}
    answer = {"type": "answer", "stop": 1, "t": 0.3, "stage": "outline_review", "feedback": "accept", "message": ""}
    _transcript(transcripts, "paused", chunk, question)
    _transcript(transcripts, "interrupted", chunk, question, answer, chunk)
    _transcript(transcripts, "ended", chunk, {"type": "end", "t": 1.0, "state": "COMPLETED", "elapsed_s": 1.0})
    waiting = _report("What does pumped hydro store?", None) | {"status": "WAITING_USER_INPUT"}
    waiting["pending"] = {"stage": "clarification", "prompt": "Which region?", "questions": "1. Which region?"}
    (tmp_path / "work" / "paused.json").write_text(json.dumps(waiting), encoding="utf-8")
    runs = {r.conversation_id or r.path: r.to_json() for r in list_saved_runs(tmp_path)}
    assert runs["paused"]["resumable"] and runs["paused"]["status"] == "UNFINISHED"
    assert runs["paused"]["pending"] == {"stage": "outline_review", "prompt": "Review the outline"}
    assert runs["interrupted"]["resumable"] and runs["interrupted"]["pending"] is None
    assert not runs["ended"]["resumable"] and runs["ended"]["pending"] is None
    report = next(r for r in runs.values() if r["path"] == "work/paused.json")
    assert report["resumable"] and report["pending"] == {"stage": "clarification", "prompt": "Which region?"}

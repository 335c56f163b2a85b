"""Finding saved runs under a Jupyter server's root: reports in notebooks, report files and transcripts.

The runs sidebar lists every run the analyst made, also after the kernel that made it is gone. Three places
hold one: a report output in a notebook (the MIME bundle ``research()`` leaves in its cell), a report saved
with ``Report.save("x.json")``, and a transcript (``.deepsearch/transcripts/<conversation_id>.jsonl``,
written while the run goes, so a run whose kernel died still shows, as unfinished).

Nothing outside the root is ever read or listed: the walk does not follow symlinked folders, and every
file's real path (symlinks resolved) must lie inside the root's real path, so a link to ``/etc`` or to a
report in another user's folder is skipped. The walk is bounded (depth, files looked at, bytes read), so a
server started in a home folder stays responsive; paths are returned relative to the root, in the form
Jupyter's contents API takes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

__all__ = ["REPORT_MIME", "SavedRun", "inside_root", "list_saved_runs", "read_saved_report"]

REPORT_MIME = "application/vnd.deepsearch.report+json"  # the same constant as deepsearch_nb._report
TRANSCRIPT_FORMAT = "deepsearch-nb-transcript"
MAX_DEPTH = 8
MAX_FILES = 20_000  # files looked at (by name) per listing
MAX_BYTES = 20 * 1024 * 1024  # a notebook or report larger than this is not read
_SKIP_DIRS = frozenset({"node_modules", ".git", ".ipynb_checkpoints", ".venv", "venv", "__pycache__", ".cache"})


@dataclass(frozen=True, slots=True)
class SavedRun:
    """One run found on disk, as the sidebar shows it."""

    path: str  # relative to the root, "/"-separated
    kind: str  # "notebook" (a report output), "report" (a report file) or "transcript"
    notebook: str  # the notebook it belongs to ("" when unknown), or the folder for a transcript
    question: str
    status: str  # COMPLETED, CANCELLED, FAILED, WAITING_USER_INPUT, RUNNING; "UNFINISHED" for a transcript
    conversation_id: str
    started_at: str
    elapsed_s: float | None
    cell: int | None = None  # the notebook cell holding the report
    # deepsearch_nb.resume(path) can pick it up: a transcript without an end line (paused, unanswered or
    # interrupted when its kernel went), or a report file saved while its run waited for an answer
    resumable: bool = False
    pending: dict[str, str] | None = None  # the unanswered question it stopped at: stage, prompt

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "notebook": self.notebook,
            "question": self.question,
            "status": self.status,
            "conversation_id": self.conversation_id,
            "started_at": self.started_at,
            "elapsed_s": self.elapsed_s,
            "cell": self.cell,
            "resumable": self.resumable,
            "pending": self.pending,
        }


def inside_root(root: str | Path, relative: str) -> Path | None:
    """The real path of ``relative`` under ``root``, or None when it is (or links) outside it."""
    real_root = Path(os.path.realpath(root))
    if not isinstance(relative, str) or "\x00" in relative or Path(relative).is_absolute():
        return None
    target = Path(os.path.realpath(real_root / relative))
    return target if target == real_root or target.is_relative_to(real_root) else None


def _files(root: Path) -> Iterator[Path]:
    """Candidate files under ``root``: bounded, no symlinked folders, hidden folders skipped but
    ``.deepsearch`` (where transcripts are)."""
    seen = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = sorted(
            d
            for d in dirs
            if depth < MAX_DEPTH and d not in _SKIP_DIRS and (not d.startswith(".") or d == ".deepsearch")
        )
        for name in sorted(files):
            seen += 1
            if seen > MAX_FILES:
                return
            if name.endswith((".ipynb", ".json", ".jsonl")):
                yield Path(folder) / name


def list_saved_runs(root: str | Path) -> list[SavedRun]:
    """Every saved run under ``root`` (never outside it), newest first."""
    real_root = Path(os.path.realpath(root))
    runs: list[SavedRun] = []
    for file in _files(real_root):
        real = Path(os.path.realpath(file))
        if not real.is_relative_to(real_root) or not real.is_file():
            continue  # a symlink out of the root
        rel = file.relative_to(real_root).as_posix()
        try:
            if real.stat().st_size > MAX_BYTES:
                continue
            if file.suffix == ".ipynb":
                runs += _from_notebook(real, rel)
            elif (
                file.suffix == ".jsonl"
                and file.parent.name == "transcripts"
                and file.parent.parent.name == ".deepsearch"
            ):
                found = _from_transcript(real, rel)
                runs += [found] if found is not None else []
            elif file.suffix == ".json":
                found = _from_report_file(real, rel)
                runs += [found] if found is not None else []
        except (OSError, ValueError):  # unreadable or not JSON: not a saved run
            continue
    runs.sort(key=lambda r: (r.started_at, r.path), reverse=True)
    return runs


def _is_report(doc: object) -> TypeGuard[Mapping[str, Any]]:
    if not isinstance(doc, Mapping):
        return False
    return doc.get("schema_version") == 1 and "report_markdown" in doc and "question" in doc


def _from_report(doc: Mapping[str, Any], **fields: Any) -> SavedRun:
    timings: Mapping[str, Any] = doc["timings"] if isinstance(doc.get("timings"), Mapping) else {}
    elapsed = timings.get("elapsed_s")
    return SavedRun(
        question=str(doc.get("question", "")),
        status=str(doc.get("status", "")),
        conversation_id=str(doc.get("conversation_id", "")),
        started_at=str(timings.get("started_at") or ""),
        elapsed_s=float(elapsed) if isinstance(elapsed, int | float) else None,
        **fields,
    )


def _from_notebook(file: Path, rel: str) -> list[SavedRun]:
    data = file.read_bytes()
    if REPORT_MIME.encode() not in data:
        return []
    notebook = json.loads(data)
    found: list[SavedRun] = []
    for index, cell in enumerate(notebook.get("cells") or []):
        for output in cell.get("outputs") or [] if isinstance(cell, Mapping) else []:
            doc = output.get("data", {}).get(REPORT_MIME) if isinstance(output, Mapping) else None
            if _is_report(doc):
                found.append(_from_report(doc, path=rel, kind="notebook", notebook=rel, cell=index))
    return found


def _from_report_file(file: Path, rel: str) -> SavedRun | None:
    with file.open("rb") as handle:
        head = handle.read(4096)
    if b'"schema_version"' not in head and b'"report_markdown"' not in head:
        return None
    doc = json.loads(file.read_bytes())
    if not _is_report(doc):
        return None
    waiting = doc.get("status") == "WAITING_USER_INPUT"
    pending = doc.get("pending") if waiting and isinstance(doc.get("pending"), Mapping) else None
    asked = {k: str(pending.get(k) or "") for k in ("stage", "prompt")} if pending is not None else None
    return _from_report(doc, path=rel, kind="report", notebook="", resumable=waiting, pending=asked)


def _from_transcript(file: Path, rel: str) -> SavedRun | None:
    with file.open("rb") as handle:
        header = json.loads(handle.readline() or b"{}")
        if not isinstance(header, Mapping) or header.get("format") != TRANSCRIPT_FORMAT:
            return None
        last: Mapping[str, Any] = {}
        asked: Mapping[str, Any] | None = None  # the last question, None once it is answered
        size = file.stat().st_size
        handle.seek(max(0, size - 65536))
        for line in handle.read().splitlines()[-200:]:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            kind = item.get("type") if isinstance(item, Mapping) else None
            if kind == "end":
                last = item
            elif kind == "question":
                asked = item
            elif kind == "answer":
                asked = None
    folder = Path(rel).parent.parent.parent.as_posix()  # the folder holding .deepsearch: the notebook's
    elapsed = last.get("elapsed_s")
    return SavedRun(
        path=rel,
        kind="transcript",
        notebook="" if folder == "." else folder,
        question=str(header.get("question", "")),
        status=str(last.get("state") or "UNFINISHED"),
        conversation_id=str(header.get("conversation_id", "")),
        started_at=str(header.get("started_at") or ""),
        elapsed_s=float(elapsed) if isinstance(elapsed, int | float) else None,
        resumable=not last,
        pending={k: str(asked.get(k) or "") for k in ("stage", "prompt")} if asked is not None and not last else None,
    )


def read_saved_report(root: str | Path, relative: str, cell: int | None = None) -> dict[str, Any] | None:
    """The report document at ``relative`` (a report file, or a notebook's cell), None when there is none.

    Raises :class:`PermissionError` for a path outside the root (a symlink out of it included).
    """
    target = inside_root(root, relative)
    if target is None:
        raise PermissionError(f"{relative!r} is outside the server's root")
    if not target.is_file() or target.stat().st_size > MAX_BYTES:
        return None
    doc = json.loads(target.read_bytes())
    if target.suffix == ".ipynb":
        cells = doc.get("cells") or []
        if cell is None or not 0 <= cell < len(cells):
            return None
        for output in cells[cell].get("outputs") or []:
            found = output.get("data", {}).get(REPORT_MIME)
            if _is_report(found):
                return dict(found)
        return None
    return dict(doc) if _is_report(doc) else None

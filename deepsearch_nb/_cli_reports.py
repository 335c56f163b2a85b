"""``deepsearch-nb replay`` and ``deepsearch-nb export``: the CLI's commands on what a run left behind.

Kept apart from ``cli.py`` (which researches) so that each stays small; ``cli.main`` dispatches here.
``replay`` runs a transcript through the same runtime as ``run`` and says whether the report it gives is
*identical* to the recording or where it *diverged* (exit status 0 or 1); ``export`` turns a saved report
into a standalone HTML page, Markdown or a Word document.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ._errors import ConfigurationError
from ._report import Report
from ._report._compare import compare
from .runtime import RunState, read_transcript

__all__ = ["export", "replay"]


def _say(text: str, stream: TextIO) -> None:
    stream.write(text + "\n")
    stream.flush()


def replay(args: argparse.Namespace, research: Callable[..., Any]) -> int:
    """Replay ``args.transcript``; 0 when the report is identical to the recording, 1 when it diverged."""
    out = sys.stdout
    transcript = read_transcript(args.transcript)
    question = args.question if args.question is not None else transcript.question
    answers = (
        args.answer
        if args.answer
        else [{"feedback": a["feedback"], "message": a["message"]} for a in transcript.answers]
    )
    _say(f"replaying: {question}", out)
    run, error = asyncio.run(
        research(
            transcript.replay_agent(speed=args.speed),
            question,
            answers=answers,
            agent_config={},
            interactive=False,
            out=out,
        )
    )
    report = Report.from_run(run, transcript=args.transcript)
    target = Path(args.out)
    target.parent.mkdir(parents=True, exist_ok=True)
    report.save(target)
    _say(f"report ({run.state.value}): {target}", out)
    if error is not None:
        _say(f"deepsearch-nb: {error}", sys.stderr)
    if run.state is not RunState.COMPLETED:
        _say(f"diverged: {run.error or run.cancel_reason}", out)
        return 1
    comparison = compare(transcript, report, labels=("recording", "replay"))
    _say(str(comparison).rstrip("\n"), out)
    return 0 if comparison.identical else 1


def export(args: argparse.Namespace) -> int:
    """Write ``args.report`` in the format ``args.to`` (next to it unless ``--out`` says where)."""
    try:
        report = Report.load(args.report)
    except OSError as exc:
        raise ConfigurationError(f"The report {args.report!r} cannot be read: {exc.strerror or exc}.") from None
    target = Path(args.out) if args.out else Path(args.report).with_suffix(f".{args.to}")
    if target.suffix.lower().lstrip(".") != args.to:
        target = target.with_suffix(f".{args.to}")
    target.parent.mkdir(parents=True, exist_ok=True)
    report.save(target)
    _say(f"{args.to}: {target}", sys.stdout)
    return 0

"""Picking a paused run up after a kernel restart (:func:`resume`); forking one at a pause is
``ResearchHandle.fork`` and works the same way.

Both rebuild the history by running the agent again with the answers recorded so far, every step pause's
answer and edit included, in step mode: the local agent is deterministic over the same corpus, so it
comes back to the same pause with the same stream (in milliseconds at pacing 0; the corpus is checked
first, as :func:`reproduce` does), and the run then waits there, live, for a person. Nothing of the old
run is needed but its transcript (or its report). For the openJiuwen SDK this re-asks the model with the
recorded answers: its checkpointer lives in the kernel's memory and does not survive a restart, so the
history is recomputed, not replayed, and may differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Unpack

from .._agents._select import without_masked
from .._errors import ConfigurationError
from .._protocol import ReportTemplate
from .._report import Report
from ..runtime import read_transcript
from ._reproduce import agent_of, check_corpus
from ._research import ResearchHandle, ResearchOptions, research

__all__ = ["resume"]


def resume(path: str | Path, **options: Unpack[ResearchOptions]) -> ResearchHandle:
    """Show a paused (or unanswered, or interrupted) run again at the same stop, and go on live from there.

    ``path`` is the run's transcript (``.jsonl``) or a report saved while it was paused (``Report.save``;
    its transcript is used when it is still there). The agent is rebuilt from the recorded spec (keys from
    the environment); ``agent=`` overrides it. Options are :func:`research`'s.
    """
    source = Path(path).expanduser()
    if source.suffix.lower() == ".json":
        report = Report.load(source)
        linked = report.doc.get("transcript")
        if isinstance(linked, str) and Path(linked).exists():
            source = Path(linked)
        else:
            return _from_report(report, options)
    transcript = read_transcript(source)
    header = transcript.header
    recorded: Mapping[str, Any] = header.get("agent") or {}
    stops = [{"feedback": a.get("feedback", ""), "message": a.get("message", "")} for a in transcript.stops]
    step = bool(header.get("step")) or any(a.get("stage") == "step" for a in transcript.stops)
    _template(header.get("template"), options)
    return _start(transcript.question, recorded, header.get("agent_config") or {}, stops, step, options)


def _template(recorded: object, options: ResearchOptions) -> None:
    """The run's recorded report template, as ``reproduce()`` takes it (checked against its hash)."""
    if "template" not in options and isinstance(recorded, Mapping):
        options["template"] = ReportTemplate.from_record(recorded)


def _from_report(report: Report, options: ResearchOptions) -> ResearchHandle:
    doc = report.doc
    stops = [{"feedback": e["feedback"], "message": e["message"]} for e in doc["hitl"]]
    step = any(e.get("stage") == "step" for e in doc["hitl"])
    _template(doc.get("template"), options)
    return _start(doc["question"], doc["agent"], doc["agent"].get("config") or {}, stops, step, options)


def _start(
    question: str,
    recorded: Mapping[str, Any],
    config: Mapping[str, Any],
    stops: list[dict[str, Any]],
    step: bool,
    options: ResearchOptions,
) -> ResearchHandle:
    if not question:
        raise ConfigurationError("This transcript records no question, so there is no run to resume.")
    if options.get("agent") is None:
        agent = agent_of(recorded)
        check_corpus(recorded, agent)
        options["agent"] = agent
    options.setdefault("answers", stops)
    options.setdefault("step", step)
    options.setdefault("agent_config", without_masked(dict(config)))
    return research(question, **options)

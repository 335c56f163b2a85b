"""Transcripts: every run leaves a JSON Lines record of how it went, written while it goes.

A report says what came out; a transcript says how: the agent (its kind and whole spec, secrets removed),
the corpus fingerprint, the LLM endpoint and model, package versions, then every chunk as received with
its time since the start, each question and the answer given (and by whom), and an end line. It is what
``ReplayAgent`` replays and what ``compare()`` reads. Each line is written and flushed as its event
arrives, so a kernel that dies mid-run leaves everything received up to then (a transcript without an
``end`` line is one whose run never finished).

Lines (``"type"``): ``header``, ``chunk`` (``round``, ``t``, ``chunk``), ``malformed`` (``raw``),
``question`` (``stop``, ``stage``, ``prompt``, ``questions``), ``answer`` (``stop``, ``stage``,
``feedback``, ``message``, ``by``), ``notice``, ``usage`` (``stage``, ``input_tokens``, ``output_tokens``,
``calls``: one LLM call as the endpoint counted it), ``end`` (``state``, ``error``, ``elapsed_s``,
``usage``: the run's totals per stage and its budget). Every
line is scrubbed of the run's secrets before it is written.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import IO, Any

from .._errors import ConfigurationError
from .._protocol import Chunk
from .._secrets import redact, scrub_text
from .._version import __version__
from ..agents import SupportsSpec
from ._events import (
    AnswerSubmitted,
    ChunkReceived,
    HitlRequested,
    MalformedChunkReceived,
    Notice,
    RunEvent,
    StateChanged,
    UsageReported,
)
from ._run import Run

__all__ = ["TRANSCRIPT_FORMAT", "Transcript", "TranscriptWriter", "read_transcript"]

TRANSCRIPT_FORMAT = "deepsearch-nb-transcript"
_VERSION = 1
_PACKAGES = ("pydantic", "openjiuwen", "bm25s", "nh3")


def _versions() -> dict[str, str]:
    """What could change a run's output: this package, Python, and the libraries that shape a report."""
    out = {"deepsearch_nb": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _llm(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The LLM endpoint and model a spec names (the local agent's ``llm``, the SDK's top level)."""
    nested = config.get("llm")
    source = nested if isinstance(nested, Mapping) else config
    if not source.get("base_url") and not source.get("model"):
        return None
    return {"base_url": source.get("base_url"), "model": source.get("model")}


def run_header(run: Run, *, agent_kind: str | None = None) -> dict[str, Any]:
    """The header line of ``run``'s transcript: question, agent, corpus, LLM, versions, start."""
    agent = run.agent
    spec: dict[str, Any] | None = None
    if isinstance(agent, SupportsSpec):
        try:
            raw = agent.spec()
            spec = {"kind": str(raw["kind"]), "config": redact(raw["config"])}
        except Exception:  # a transcript is still worth having without the spec
            spec = None
    config = spec["config"] if spec is not None else {}
    fingerprint = config.get("corpus_fingerprint")
    return {
        "type": "header",
        "format": TRANSCRIPT_FORMAT,
        "version": _VERSION,
        "question": run.question,
        "conversation_id": run.conversation_id,
        "agent": {"kind": str(agent_kind or getattr(agent, "kind", None) or type(agent).__name__), "spec": spec},
        "agent_config": redact(run.agent_config),
        "step": run.step,  # step mode: deepsearch_nb.resume() pauses where this run did
        "corpus": {"path": config.get("corpus"), "fingerprint": fingerprint} if fingerprint else None,
        "llm": _llm(config),
        "template": run.template.record() if run.template is not None else None,
        "versions": _versions(),
        "started_at": run.started_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def _wire(chunk: Chunk) -> dict[str, Any]:
    """The chunk with exactly the keys that arrived (as ``Chunk.to_wire`` writes it), as a JSON object."""
    wire: dict[str, Any] = chunk.model_dump(exclude_unset=True)
    return wire


class TranscriptWriter:
    """A run listener that appends one JSON line per event to ``path`` and closes it at the end.

    :meth:`attach` writes the header (and what the run already holds), then subscribes. The file is
    line-buffered and flushed per line: a crash loses at most the line being written.
    """

    def __init__(self, run: Run, path: str | Path, *, agent_kind: str | None = None) -> None:
        self.run = run
        self.path = Path(path)
        self._secrets = list(run.secrets)
        self._t0 = time.monotonic()
        self._stops = 0
        self._file: IO[str] | None = None
        self._unsubscribe: Any = None
        self._agent_kind = agent_kind

    @classmethod
    def attach(cls, run: Run, path: str | Path, *, agent_kind: str | None = None) -> TranscriptWriter:
        """Start writing ``run``'s transcript at ``path`` (parent folders are made)."""
        writer = cls(run, path, agent_kind=agent_kind)
        writer.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            writer._file = writer.path.open("w", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise ConfigurationError(f"The transcript {str(writer.path)!r} cannot be written: {exc}.") from None
        # A run that never ends (a question nobody answers) must not leak an open file: closed with the writer.
        weakref.finalize(writer, writer._file.close)
        writer._write(run_header(run, agent_kind=agent_kind))
        for chunk in run.chunks:  # a run that was already answered (a cancelled key) before we listened
            writer._write({"type": "chunk", "round": max(len(run.rounds), 1), "t": 0.0, "chunk": _wire(chunk)})
        if run.state.terminal:
            writer._end()
        else:
            writer._unsubscribe = run.subscribe(writer)
        return writer

    @property
    def closed(self) -> bool:
        return self._file is None

    def __call__(self, event: RunEvent) -> None:
        if self._file is None:
            return
        t = round(time.monotonic() - self._t0, 4)
        if isinstance(event, ChunkReceived):
            self._write({"type": "chunk", "round": len(self.run.rounds), "t": t, "chunk": _wire(event.chunk)})
        elif isinstance(event, MalformedChunkReceived):
            line = {"type": "malformed", "round": len(self.run.rounds), "t": t, "raw": event.malformed.raw}
            self._write({**line, "reason": event.malformed.reason})
        elif isinstance(event, HitlRequested):
            self._stops += 1
            request = event.request
            stage = request.stage.value
            self._write(
                {"type": "question", "stop": self._stops, "t": t, "stage": stage, "prompt": request.prompt}
                | {"questions": request.questions}
            )
        elif isinstance(event, AnswerSubmitted):
            answer = {"feedback": event.answer.feedback.value, "message": event.answer.message, "by": event.by.value}
            self._write({"type": "answer", "stop": self._stops, "t": t, "stage": event.request.stage.value, **answer})
        elif isinstance(event, Notice):
            self._write({"type": "notice", "t": t, "kind": event.kind.value, "message": event.message})
        elif isinstance(event, UsageReported):
            u = event.usage
            tokens = {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens, "calls": u.calls}
            self._write({"type": "usage", "t": t, "stage": u.stage, **tokens})
        elif isinstance(event, StateChanged) and event.state.terminal:
            self._end()

    def close(self) -> None:
        """Stop listening and close the file (without an end line: the run did not end here)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def _end(self) -> None:
        run = self.run
        self._write(
            {
                "type": "end",
                "t": round(time.monotonic() - self._t0, 4),
                "state": run.state.value,
                "error": run.error,
                "cancel_reason": run.cancel_reason,
                "elapsed_s": round(max(run.elapsed_s, 0.0), 3),
                "usage": run.usage,
            }
        )
        self.close()

    def _write(self, line: Mapping[str, Any]) -> None:
        if self._file is None:
            return
        text = json.dumps(line, ensure_ascii=False, default=str)
        self._file.write(scrub_text(text, self._secrets) + "\n")


@dataclass
class Transcript:
    """A transcript read back: its header, chunks per round, the questions and answers, and its end."""

    path: Path | None
    header: dict[str, Any]
    rounds: list[list[dict[str, Any] | str]] = field(default_factory=list)
    times: list[list[float]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)  # the agent's own stops (what a replay answers)
    stops: list[dict[str, Any]] = field(default_factory=list)  # every answer in order, step pauses' too
    notices: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] | None = None

    @property
    def question(self) -> str:
        return str(self.header.get("question", ""))

    @property
    def complete(self) -> bool:
        """The run ended while it was recorded (a crash leaves no ``end`` line)."""
        return self.end is not None

    def chunks(self) -> list[dict[str, Any] | str]:
        return [c for r in self.rounds for c in r]

    def replay_agent(self, *, speed: float = 0.0) -> Any:
        """A :class:`ReplayAgent` that plays these rounds and checks the question and each answer."""
        from .._agents._replay import ReplayAgent

        expected = [(str(a.get("feedback", "")), str(a.get("message", ""))) for a in self.answers]
        agent = self.header.get("agent")
        spec = agent.get("spec") if isinstance(agent, Mapping) else None
        config = spec.get("config") if isinstance(spec, Mapping) else None
        sources = {k: config[k] for k in ("corpus", "search") if k in config} if isinstance(config, Mapping) else {}
        return ReplayAgent(
            self.rounds, question=self.question, answers=expected, times=self.times, speed=speed, sources=sources
        )


def read_transcript(path: str | Path) -> Transcript:
    """Read a transcript written by :class:`TranscriptWriter`; a truncated last line (a crash) is skipped."""
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigurationError(f"The transcript {str(source)!r} cannot be read: {exc}.") from None
    return parse_transcript(lines, path=source)


def parse_transcript(lines: list[str], *, path: Path | None = None) -> Transcript:
    """The :class:`Transcript` of these JSON lines (see the module docstring for the line types)."""
    items: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            if number == len(lines):
                break  # the line a crash cut short
            raise ConfigurationError(f"{path or 'the transcript'} line {number} is not JSON.") from None
        if isinstance(item, dict):
            items.append(item)
    if not items or items[0].get("type") != "header" or items[0].get("format") != TRANSCRIPT_FORMAT:
        raise ConfigurationError(
            f"{path or 'This'} is not a deepsearch-nb transcript (its first line is not a header); "
            "a plain list of chunks replays with ReplayAgent.from_jsonl(...)."
        )
    transcript = Transcript(path=path, header=items[0])
    for item in items[1:]:
        kind = item.get("type")
        if kind in ("chunk", "malformed"):
            index = max(int(item.get("round") or 1), 1) - 1
            while len(transcript.rounds) <= index:
                transcript.rounds.append([])
                transcript.times.append([])
            chunk = item.get("chunk") if kind == "chunk" else item.get("raw")
            transcript.rounds[index].append(chunk if isinstance(chunk, dict | str) else json.dumps(chunk))
            transcript.times[index].append(float(item.get("t") or 0.0))
        elif kind == "question":
            transcript.questions.append(item)
        elif kind == "answer":
            transcript.stops.append(item)
            if item.get("stage") != "step":  # a step pause's answer steered the run; its chunks show the result
                transcript.answers.append(item)
        elif kind == "notice":
            transcript.notices.append(item)
        elif kind == "end":
            transcript.end = item
    return transcript

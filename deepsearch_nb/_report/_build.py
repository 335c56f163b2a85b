"""Building a report document from a run: what a run becomes once it outlives the kernel.

The document is also what makes a run reproducible: question, answers, the agent's (redacted) spec,
package version. Secrets never enter a document: the config is redacted and every text field is scrubbed
of the run's secret strings before the document is returned.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._protocol import FinalResult, HitlRequest, Source
from .._secrets import describe_exception, redact, scrub_text
from .._version import __version__
from ..agents import SupportsSpec
from ..runtime import Run, RunState
from ._schema import SCHEMA_MINOR, SCHEMA_VERSION

__all__ = ["report_document"]

_log = logging.getLogger("deepsearch_nb.report")

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def report_document(run: Run, *, agent_kind: str | None = None, transcript: str | Path | None = None) -> dict[str, Any]:
    """The schema-v1 document of ``run`` in its current state (any state: a waiting run gives a snapshot).

    ``agent_kind`` names the agent ("local", "openjiuwen-sdk", ...) when the agent object has no
    ``kind`` attribute worth showing. ``transcript`` is the path of the run's transcript, linked from the
    report so a reader can see how it was made.
    """
    report = run.report_markdown
    result = run.result
    sources = result.sources() if result is not None else []
    if not sources:  # partial run, or a report without a Reference Articles list
        sources = list(run.progress.sources)
    outline = run.progress.outline
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "schema_minor": SCHEMA_MINOR,
        "question": run.question,
        "title": (outline.title.strip() if outline is not None else "") or _first_heading(report),
        "status": run.state.value,
        "error": _error_text(run),
        "report_markdown": report,
        "sources": [_source(s, run.progress.sources, result) for s in sources],
        "citations": _jsonable(result.citation_messages) if result is not None else {},
        "hitl": [
            {
                **_request(exchange.request),
                "feedback": exchange.answer.feedback.value,
                "message": exchange.answer.message,
                "by": exchange.by.value,
            }
            for exchange in run.exchanges
        ],
        "timings": {
            "started_at": _iso(run.started_at),
            "ended_at": _iso(run.ended_at) if run.ended_at is not None else None,
            "elapsed_s": round(max(run.elapsed_s, 0.0), 3),
        },
        "agent": _agent(run, agent_kind),
        "notices": _notices(run),
        "conversation_id": run.conversation_id,
        "package_version": __version__,
    }
    if transcript is not None:
        doc["transcript"] = str(transcript)
    if run.template is not None:
        doc["template"] = run.template.record()
    usage = run.usage
    if usage["calls"] or "budget" in usage:
        doc["usage"] = usage  # schema 1.1: LLM tokens per stage, and the budget
    doc["provenance"] = _provenance(doc)
    if run.state is RunState.WAITING_USER_INPUT and run.pending is not None:
        doc["pending"] = _request(run.pending)  # the question the run waits on (an extra of schema v1)
    doc.update(_checked_citations(doc))
    scrubbed: dict[str, Any] = _scrub(doc, list(run.secrets))
    return scrubbed


def _checked_citations(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence behind each citation and the check of it (schema 1.1); a report without them is
    still worth having, so a failing check is logged and left out."""
    from ._citations import check_citations  # not at import: it needs the local agent's text tools (numpy)

    try:
        return check_citations(doc)
    except Exception as exc:
        _log.warning("the citation check failed: %s", describe_exception(exc))
        return {}


def _agent(run: Run, agent_kind: str | None) -> dict[str, Any]:
    agent = run.agent
    out: dict[str, Any] = {
        "kind": str(agent_kind or getattr(agent, "kind", None) or type(agent).__name__),
        "config": _jsonable(redact(run.agent_config)),
    }
    if isinstance(agent, SupportsSpec):
        try:
            spec = agent.spec()
        except Exception as exc:  # a report is still worth having without the spec
            _log.warning("the agent's spec() failed: %s", type(exc).__name__)
        else:
            out["spec"] = {"kind": str(spec["kind"]), "config": _jsonable(redact(spec["config"]))}
    return out


def _provenance(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Who and what made the report, in one place: agent, model, corpus, answers (and by whom), when,
    how long, the transcript. Derived from the rest of the document, so it cannot disagree with it."""
    agent = doc["agent"]
    config = agent.get("spec", {}).get("config", {}) if isinstance(agent.get("spec"), Mapping) else {}
    llm = config.get("llm") if isinstance(config.get("llm"), Mapping) else config
    fingerprint = config.get("corpus_fingerprint")
    corpus: dict[str, Any] | None = None
    if isinstance(fingerprint, Mapping):
        documents = fingerprint.get("documents")
        corpus = {
            "path": config.get("corpus") or "(the shipped demo corpus)",
            "sha256": fingerprint.get("sha256"),
            "documents": len(documents) if isinstance(documents, Mapping) else 0,
        }
    return {
        "agent": agent["kind"],
        "model": llm.get("model") if isinstance(llm, Mapping) else None,
        "llm_endpoint": llm.get("base_url") if isinstance(llm, Mapping) else None,
        "corpus": corpus,
        "answers": [{"stage": h["stage"], "feedback": h["feedback"], "by": h["by"]} for h in doc["hitl"]],
        "date": doc["timings"]["started_at"],
        "duration_s": doc["timings"]["elapsed_s"],
        "transcript": doc.get("transcript"),
    }


def _notices(run: Run) -> list[dict[str, str]]:
    """The runtime's notices, then the agent's own recoverable errors (a swallowed failure is said)."""
    notices = [{"kind": n.kind.value, "message": n.message} for n in run.notices]
    notices += [{"kind": "agent_warning", "message": text} for text in run.progress.notices if text]
    return notices


def _first_heading(markdown: str) -> str:
    match = _HEADING.search(markdown)
    return match.group("text").strip() if match else ""


def _error_text(run: Run) -> str | None:
    """What went wrong, phrased so that the reader knows what happened to the report and what to do."""
    if run.error:
        return run.error
    if run.state is RunState.FAILED:
        return "The run failed without saying why; run it again, and check the agent's logs if it fails again."
    if run.state is not RunState.CANCELLED:
        return None
    reason = (run.cancel_reason or "").strip().rstrip(".")
    kept = (
        "The report below is what was written before it stopped."
        if run.report_markdown.strip()
        else "Nothing was written yet; start a new run to get a report."
    )
    if reason.startswith("evicted"):
        return (
            f"The run was cancelled ({reason}). {kept} Answer waiting runs sooner, "
            "or give RunManager a larger hitl_capacity."
        )
    abandoned = (
        " The agent ignored the cancel and was left to finish alone: it may still have been working."
        if run.abandoned
        else ""
    )
    return f"The run was cancelled ({reason or 'no reason given'}). {kept}{abandoned}"


def _source(source: Source, collected: Sequence[Source], result: FinalResult | None) -> dict[str, Any]:
    """A source entry; with what opens it in place when the agent gave it: the passages the report quotes
    (the citation's sentences), the document's text and the file it was read from."""
    out: dict[str, Any] = {"index": source.index, "title": source.title, "url": source.url}
    if source.query:
        out["query"] = source.query
    seen = next((s for s in collected if s.url == source.url), source)
    extra = seen.model_extra or {}
    citation = result.citation_messages.get(str(source.index)) if result is not None else None
    sentences = citation.get("sentences") if isinstance(citation, Mapping) else None
    if isinstance(sentences, list) and all(isinstance(p, str) for p in sentences) and sentences:
        out["passages"] = list(sentences)
    for field in ("document", "file"):
        value = extra.get(field)
        if isinstance(value, str) and value:
            out[field] = value
    return out


def _request(request: HitlRequest) -> dict[str, Any]:
    entry = {
        "stage": request.stage.value,
        "prompt": request.prompt,
        "questions": request.questions,
        "outline": _jsonable(request.outline.model_dump(mode="json")) if request.outline is not None else None,
    }
    if request.step is not None:  # a step pause: what it showed, so the edit made there can be read back
        entry["step"] = _jsonable(
            request.step.model_dump(mode="json", exclude_defaults=True) | {"kind": request.step.kind.value}
        )
    return entry


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON types, so the document survives ``json.dumps`` and a notebook save."""
    if value is None or isinstance(value, bool) or type(value) is int:
        return value
    if isinstance(value, int):  # IntEnum and friends
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return str(value)  # a StrEnum becomes its plain value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)  # paths, models, objects: their text is what a reader can use


def _scrub(value: Any, secrets: list[str]) -> Any:
    """Every string in the tree with the run's secrets (and obvious credentials) masked."""
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value

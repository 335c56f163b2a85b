"""The persistent report: one run as a JSON document (schema v1) that outlives the kernel.

A live panel needs a kernel; the notebook file does not keep one. What stays is this document, stored
as a notebook output under :data:`REPORT_MIME` next to Markdown, HTML and plain-text fallbacks (see
``_render``), so the report reads well in JupyterLab, in nbconvert HTML and on GitHub. The document is
also what makes a run reproducible: question, answers, (redacted) agent config, package version.

Secrets never enter a document: the config is redacted and every text field is scrubbed of the config's
secret strings before the document is returned.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError, InvalidInputError
from .._protocol import HitlRequest, Source
from .._runtime import Run, RunState
from .._secrets import redact, scrub_text, secret_values
from .._version import __version__

__all__ = ["REPORT_MIME", "SCHEMA_VERSION", "Report", "load_schema", "report_document"]

REPORT_MIME = "application/vnd.deepsearch.report+json"
SCHEMA_VERSION = 1

_REQUIRED = ("schema_version", "question", "status", "report_markdown", "sources", "hitl", "timings", "agent")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


@functools.cache
def _schema_text() -> str:
    return (resources.files("deepsearch_nb") / "schemas" / "report.v1.schema.json").read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The JSON Schema of report documents (package data; a fresh dict each call, safe to modify)."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


# --- building a document from a run ---------------------------------------------------------------


def report_document(run: Run, *, agent_kind: str | None = None) -> dict[str, Any]:
    """The schema-v1 document of ``run`` in its current state (any state: a waiting run gives a snapshot).

    ``agent_kind`` names the agent ("local", "openjiuwen-sdk", ...) when the agent object has no
    ``kind`` attribute worth showing.
    """
    report = run.report_markdown
    result = run.result
    sources = result.sources() if result is not None else []
    if not sources:  # partial run, or a report without a Reference Articles list
        sources = list(run.progress.sources)
    outline = run.progress.outline
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "question": run.question,
        "title": (outline.title.strip() if outline is not None else "") or _first_heading(report),
        "status": run.state.value,
        "error": _error_text(run),
        "report_markdown": report,
        "sources": [_source(s) for s in sources],
        "citations": _jsonable(result.citation_messages) if result is not None else {},
        "hitl": [
            {
                **_request(exchange.request),
                "feedback": exchange.answer.feedback.value,
                "message": exchange.answer.message,
            }
            for exchange in run.exchanges
        ],
        "timings": {
            "started_at": _iso(run.started_at),
            "ended_at": _iso(run.ended_at) if run.ended_at is not None else None,
            "elapsed_s": round(max(run.elapsed_s, 0.0), 3),
        },
        "agent": {
            "kind": str(agent_kind or getattr(run.agent, "kind", None) or type(run.agent).__name__),
            "config": _jsonable(redact(run.agent_config)),
        },
        "conversation_id": run.conversation_id,
        "package_version": __version__,
    }
    if run.state is RunState.WAITING_USER_INPUT and run.pending is not None:
        doc["pending"] = _request(run.pending)  # the question the run waits on (an extra of schema v1)
    scrubbed: dict[str, Any] = _scrub(doc, secret_values(run.agent_config))
    return scrubbed


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
    return f"The run was cancelled ({reason or 'no reason given'}). {kept}"


def _source(source: Source) -> dict[str, Any]:
    out: dict[str, Any] = {"index": source.index, "title": source.title, "url": source.url}
    if source.query:
        out["query"] = source.query
    return out


def _request(request: HitlRequest) -> dict[str, Any]:
    return {
        "stage": request.stage.value,
        "prompt": request.prompt,
        "questions": request.questions,
        "outline": _jsonable(request.outline.model_dump(mode="json")) if request.outline is not None else None,
    }


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


# --- reading documents ----------------------------------------------------------------------------


def _check(doc: object) -> dict[str, Any]:
    """A copy of ``doc`` if it is a report document this version can read; a readable error if not."""
    if isinstance(doc, str | bytes | bytearray):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise ConfigurationError(f"This is not a report document: the text is not JSON ({exc}).") from None
    if not isinstance(doc, Mapping):
        raise ConfigurationError(
            f"A report document is a JSON object (a dict), not {type(doc).__name__}; "
            f"read it from the notebook output's {REPORT_MIME!r} entry."
        )
    version = doc.get("schema_version")
    if isinstance(version, bool) or version != SCHEMA_VERSION:  # True == 1 in Python, not in JSON
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            raise ConfigurationError(
                f"This report uses schema version {version}, but deepsearch_nb {__version__} reads only version "
                f"{SCHEMA_VERSION}: upgrade deepsearch_nb to open it."
            )
        raise ConfigurationError(
            f"This is not a deepsearch_nb report document of a known version (schema_version={version!r}; "
            f"expected {SCHEMA_VERSION})."
        )
    missing = [key for key in _REQUIRED if key not in doc]
    if missing:
        raise ConfigurationError(f"The report document is incomplete: it has no {', '.join(missing)}.")
    checked: dict[str, Any] = copy.deepcopy(dict(doc))
    return checked


class Report:
    """A finished (or snapshotted) run's report, read-only; displays itself when it ends a cell.

    Build it with :meth:`from_run` or :meth:`from_document` (e.g. the ``REPORT_MIME`` entry of a saved
    notebook output). ``.doc`` returns a copy, so the report cannot be changed after the fact.
    """

    __slots__ = ("_doc",)

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self._doc = _check(doc)

    @classmethod
    def from_run(cls, run: Run, *, agent_kind: str | None = None) -> Report:
        return cls(report_document(run, agent_kind=agent_kind))

    @classmethod
    def from_document(cls, doc: Mapping[str, Any] | str | bytes) -> Report:
        """Read a document (a dict or its JSON text); refuses unknown schema versions with a clear error."""
        return cls(_check(doc))

    @classmethod
    def load(cls, path: str | Path) -> Report:
        """Read a report saved with ``save("....json")``."""
        return cls.from_document(Path(path).read_text(encoding="utf-8"))

    # --- reading ---

    @property
    def doc(self) -> dict[str, Any]:
        return copy.deepcopy(self._doc)

    @property
    def markdown(self) -> str:
        """The report itself as the agent wrote it (``[citation:N]`` markers included)."""
        return str(self._doc.get("report_markdown", ""))

    @property
    def status(self) -> str:
        return str(self._doc.get("status", ""))

    @property
    def question(self) -> str:
        return str(self._doc.get("question", ""))

    @property
    def title(self) -> str:
        return str(self._doc.get("title") or "")

    @property
    def error(self) -> str | None:
        error = self._doc.get("error")
        return None if error is None else str(error)

    @property
    def sources(self) -> list[Source]:
        return [Source.model_validate(s) for s in self._doc.get("sources", [])]

    # --- writing ---

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self._doc, ensure_ascii=False, indent=indent)

    def to_markdown(self) -> str:
        """The standalone Markdown document (the ``text/markdown`` fallback: links, sources, run details)."""
        from ._render import report_markdown  # _render imports this module

        return report_markdown(self._doc)

    def save(self, path: str | Path) -> Path:
        """Write the report as Markdown (``.md``) or as its JSON document (``.json``); returns the path."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix in (".md", ".markdown"):
            text = self.to_markdown()
        elif suffix == ".json":
            text = self.to_json() + "\n"
        else:
            raise InvalidInputError(
                f"save() writes .md (Markdown) or .json (the report document) files, not {target.name!r}."
            )
        target.write_text(text, encoding="utf-8")
        return target

    # --- display ---

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
        """IPython's display hook: the report document plus its Markdown, HTML and text fallbacks."""
        from ._render import report_bundle

        bundle = report_bundle(self._doc)
        if include:
            bundle = {mime: data for mime, data in bundle.items() if mime in include}
        if exclude:
            bundle = {mime: data for mime, data in bundle.items() if mime not in exclude}
        return bundle

    def __repr__(self) -> str:
        question = self.question if len(self.question) <= 60 else self.question[:57] + "..."
        return f"<Report {self.status} {question!r} sources={len(self._doc.get('sources', []))}>"

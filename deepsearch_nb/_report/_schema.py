"""The report document's fixed facts: its MIME type, its schema version and the schema itself.

One source for each: the renderers, the Report class, the server and the tests read them from here, and
the JupyterLab extension's TypeScript types are checked against the same ``report.v1.schema.json``.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from .._errors import ConfigurationError
from .._version import __version__

__all__ = ["REPORT_MIME", "SCHEMA_MINOR", "SCHEMA_VERSION", "check_document", "load_schema"]

REPORT_MIME = "application/vnd.deepsearch.report+json"
SCHEMA_VERSION = 1
SCHEMA_MINOR = 1
"""Minor versions add optional fields only (1.1: ``evidence``, ``citation_check``), so every v1 reader
reads them and a document without ``schema_minor`` is 1.0."""

_REQUIRED = ("schema_version", "question", "status", "report_markdown", "sources", "hitl", "timings", "agent")


@functools.cache
def _schema_text() -> str:
    return (resources.files("deepsearch_nb") / "schemas" / "report.v1.schema.json").read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The JSON Schema of report documents (package data; a fresh dict each call, safe to modify)."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


def check_document(doc: object) -> dict[str, Any]:
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

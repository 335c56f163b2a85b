"""The persistent report: one run as a JSON document (schema v1) that outlives the kernel.

A live panel needs a kernel; the notebook file does not keep one. What stays is this document, stored
as a notebook output under :data:`REPORT_MIME` next to Markdown, HTML and plain-text fallbacks (see
``_render``), so the report reads well in JupyterLab, in nbconvert HTML and on GitHub.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import InvalidInputError
from .._protocol import Source
from ..runtime import Run
from ._build import report_document
from ._render import report_bundle
from ._schema import check_document

__all__ = ["Report"]


class Report:
    """A finished (or snapshotted) run's report, read-only; displays itself when it ends a cell.

    Build it with :meth:`from_run` or :meth:`from_document` (e.g. the ``REPORT_MIME`` entry of a saved
    notebook output). ``.doc`` returns a copy, so the report cannot be changed after the fact.
    """

    __slots__ = ("_comparison", "_doc")

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self._doc = check_document(doc)
        self._comparison: Any = None

    @property
    def comparison(self) -> Any:
        """For a report made by ``reproduce()``: its :class:`Comparison` with the original (else None)."""
        return self._comparison

    def with_comparison(self, comparison: Any) -> Report:
        """This report, remembering how it compares with the report it reproduces."""
        out = Report(self._doc)
        out._comparison = comparison
        return out

    @classmethod
    def from_run(cls, run: Run, *, agent_kind: str | None = None, transcript: str | Path | None = None) -> Report:
        return cls(report_document(run, agent_kind=agent_kind, transcript=transcript))

    @classmethod
    def from_document(cls, doc: Mapping[str, Any] | str | bytes) -> Report:
        """Read a document (a dict or its JSON text); refuses unknown schema versions with a clear error."""
        return cls(check_document(doc))

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

    @property
    def citation_check(self) -> dict[str, Any]:
        """The check made when the report was built: counts, ``summary`` (the header line) and one entry
        per citation (``markers``: status, support, passage); empty for reports older than schema 1.1."""
        return copy.deepcopy(dict(self._doc.get("citation_check") or {}))

    def check_citations(self) -> dict[str, Any]:
        """The citation check run again now, against the sources as they are today (a corpus file
        edited since the report fails its citations): ``{"evidence": ..., "citation_check": ...}``."""
        from ._citations import check_citations

        return check_citations(self._doc)

    # --- writing ---

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self._doc, ensure_ascii=False, indent=indent)

    def to_markdown(self) -> str:
        """The standalone Markdown document: the ``text/markdown`` fallback (links, sources, run details)
        and the report's provenance (agent, corpus fingerprint, answers and who gave them, transcript)."""
        from ._export import export_markdown

        return export_markdown(self._doc)

    def to_html(self) -> str:
        """A standalone HTML page: sanitised, styles inline, no script, nothing loaded from any host."""
        from ._export import export_html

        return export_html(self._doc)

    def save(self, path: str | Path) -> Path:
        """Write the report by its suffix: ``.md`` (Markdown with sources and provenance), ``.json`` (the
        document), ``.html`` (a standalone page) or ``.docx`` (Word, needs the ``docx`` extra)."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".docx":
            from ._export import export_docx

            export_docx(self._doc, target)
            return target
        if suffix in (".md", ".markdown"):
            text = self.to_markdown()
        elif suffix == ".json":
            text = self.to_json() + "\n"
        elif suffix in (".html", ".htm"):
            text = self.to_html()
        else:
            raise InvalidInputError(
                f"save() writes .md (Markdown), .json (the report document), .html (a standalone page) or .docx "
                f"(Word) files, chosen by the suffix, not {target.name!r}."
            )
        target.write_text(text, encoding="utf-8")
        return target

    # --- display ---

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
        """IPython's display hook: the report document plus its Markdown, HTML and text fallbacks."""
        bundle = report_bundle(self._doc)
        if include:
            bundle = {mime: data for mime, data in bundle.items() if mime in include}
        if exclude:
            bundle = {mime: data for mime, data in bundle.items() if mime not in exclude}
        return bundle

    def __repr__(self) -> str:
        question = self.question if len(self.question) <= 60 else self.question[:57] + "..."
        return f"<Report {self.status} {question!r} sources={len(self._doc.get('sources', []))}>"

"""Report templates: a team's report shape, as Markdown whose headings are the sections, in order.

Why here, in the lowest layer: every agent takes a template (the local agent outlines from its headings,
the SDK gets it as ``report_template``, a remote agent sends it), the runtime and the report record it,
and the UI and the CLI resolve what a user typed. So the resolving, the hashing and the record live in
one small module everyone below the UI can import.

A template is given as a :class:`ReportTemplate`, as Markdown text (anything with a line break or a
leading ``#``), as the path of a Markdown file, or as a *name* looked up as ``<name>.md`` in the
template folders, in order: each folder of ``$DEEPSEARCH_NB_TEMPLATES`` (``os.pathsep``-separated),
``templates/`` under the working directory (the notebook's folder when Jupyter started the kernel
there), then the templates shipped in the package (``policy-brief``, ``technology-assessment``). A
missing or empty template is a :class:`TemplateError` that names every place it looked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import TemplateError

__all__ = [
    "TEMPLATE_DIR_ENV",
    "ReportTemplate",
    "decode_template",
    "resolve_template",
    "shipped_template_dir",
    "template_folders",
    "template_headings",
]

TEMPLATE_DIR_ENV = "DEEPSEARCH_NB_TEMPLATES"
"""Folders (``os.pathsep``-separated) searched first for a template given by name."""

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_NAME = re.compile(r"^[\w][\w.\- ]*$")


def shipped_template_dir() -> Path:
    """The templates shipped in the package (package data, ``deepsearch_nb/data/templates``)."""
    return Path(__file__).resolve().parents[1] / "data" / "templates"


def template_folders(folders: Sequence[str | Path] | None = None) -> list[Path]:
    """Where a template name is looked up, in order: ``folders`` if given, else ``$DEEPSEARCH_NB_TEMPLATES``
    and ``./templates``; the shipped templates always come last."""
    if folders is None:
        configured = os.environ.get(TEMPLATE_DIR_ENV, "")
        chosen = [Path(p).expanduser() for p in configured.split(os.pathsep) if p.strip()]
        chosen.append(Path.cwd() / "templates")
    else:
        chosen = [Path(p).expanduser() for p in folders]
    shipped = shipped_template_dir()
    return [*chosen, shipped] if shipped not in chosen else chosen


def decode_template(text: str) -> str:
    """The Markdown of a template sent as text or base64 (the SDK's ``_handle_report_template`` rule)."""
    stripped = text.strip()
    if stripped and "\n" not in stripped and " " not in stripped:
        try:
            decoded = base64.b64decode(stripped, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return text
        if "#" in decoded:
            return decoded
    return text


def template_headings(markdown: str) -> list[tuple[int, str]]:
    """The (level, text) of every Markdown heading of a template, in order (base64 accepted)."""
    out: list[tuple[int, str]] = []
    for line in decode_template(markdown).splitlines():
        match = _HEADING.match(line)
        if match:
            out.append((len(match.group(1)), match.group(2)))
    return out


@dataclass(frozen=True, slots=True)
class ReportTemplate:
    """A resolved report template: its name, its Markdown, and where it came from.

    ``sha256`` (of the UTF-8 Markdown) is what a report records besides the name and the content, so a
    reader can tell two runs used the same template even when both were called ``policy-brief``.
    """

    name: str
    markdown: str
    source: str = "text"  # a file path, "text", "shipped", "server" or "report"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.markdown.encode("utf-8")).hexdigest()

    @property
    def sections(self) -> list[str]:
        """The headings that become sections (a lone top ``#`` heading is the title, not a section)."""
        headings = template_headings(self.markdown)
        if len(headings) > 1 and headings[0][0] == 1 and all(level > 1 for level, _ in headings[1:]):
            headings = headings[1:]
        return [text for _, text in headings]

    def record(self) -> dict[str, str]:
        """What a report and a transcript keep of the template: enough to run with it again."""
        return {"name": self.name, "sha256": self.sha256, "source": self.source, "markdown": self.markdown}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ReportTemplate:
        """The template a report recorded (refused when its content no longer matches its hash)."""
        markdown = record.get("markdown")
        if not isinstance(markdown, str) or not markdown.strip():
            raise TemplateError("The report recorded a template without its content; pass template=... yourself.")
        template = cls(str(record.get("name") or "(template)"), markdown, "report")
        recorded = record.get("sha256")
        if isinstance(recorded, str) and recorded and recorded != template.sha256:
            raise TemplateError(
                f"The report's template {template.name!r} does not match its recorded sha256 (edited by hand?): "
                "pass template=... to choose one."
            )
        return template

    @classmethod
    def from_text(cls, markdown: str, name: str | None = None, source: str = "text") -> ReportTemplate:
        """A template given as Markdown (or base64) text; named after its first heading unless ``name``."""
        text = decode_template(markdown)
        if not text.strip():
            raise TemplateError("The report template is empty: give Markdown with a heading per section.")
        headings = template_headings(text)
        return cls(name or (headings[0][1] if headings else "(text)"), text, source)


def resolve_template(
    value: ReportTemplate | str | Path, *, folders: Sequence[str | Path] | None = None
) -> ReportTemplate:
    """The template ``value`` means: a template, Markdown text, a file path, or a name in the folders.

    Raises :class:`TemplateError` for an empty template and for a file or name that is nowhere, naming
    every path it tried and the names it could have used.
    """
    if isinstance(value, ReportTemplate):
        return value
    if isinstance(value, str) and ("\n" in value or value.lstrip().startswith("#")):
        return ReportTemplate.from_text(value)
    if not isinstance(value, str | Path):
        raise TemplateError(
            f"template must be a template name, a path to a Markdown file or Markdown text, not {type(value).__name__}."
        )
    text = str(value).strip()
    if not text:
        raise TemplateError("The report template is empty: give a name, a Markdown file or Markdown text.")
    path = Path(text).expanduser()
    if path.is_file():
        return _from_file(path, path.stem)
    if isinstance(value, Path) or "/" in text or os.sep in text:
        raise TemplateError(f"The report template file {path.resolve()} does not exist: check the path.")
    tried: list[Path] = []
    if path.suffix.lower() in (".md", ".markdown", ".txt"):  # "memo.md": not here, so the name "memo"
        tried.append(path.resolve())
        text = path.stem
    if not _NAME.match(text):
        raise TemplateError(f"{text!r} is not a template name, a Markdown file or Markdown text.")
    for folder in template_folders(folders):
        candidate = folder / f"{text}.md"
        tried.append(candidate)
        if candidate.is_file():
            source = "shipped" if folder == shipped_template_dir() else str(candidate)
            return _from_file(candidate, text, source)
    names = sorted({p.stem for folder in template_folders(folders) if folder.is_dir() for p in folder.glob("*.md")})
    raise TemplateError(
        f"No report template named {text!r}: looked for {', '.join(str(p) for p in tried)}. "
        f"Templates available: {', '.join(names) or '(none)'}; or give a path to a Markdown file. "
        f"Set ${TEMPLATE_DIR_ENV} to add a folder."
    )


def _from_file(path: Path, name: str, source: str | None = None) -> ReportTemplate:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"Cannot read the report template {path} ({type(exc).__name__}): {exc}") from None
    if not text.strip():
        raise TemplateError(f"The report template {path} is empty: write a Markdown heading per section.")
    return ReportTemplate(name, text, source or str(path.resolve()))

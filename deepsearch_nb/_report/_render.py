"""The report's MIME bundle: the document plus fallbacks that read well where no custom renderer runs.

A notebook output keeps every MIME type it was given; each viewer shows the richest one it knows:
JupyterLab with our extension the document itself, JupyterLab without it, nbconvert and GitHub the
``text/html`` (or ``text/markdown``), terminals and nbval ``text/plain``.

Everything in a document except its structure comes from an agent, i.e. from web pages an attacker may
write. So no fallback may carry live HTML or script URLs:

* ``text/html`` is rendered by markdown-it with raw HTML off (tags in the report become text), then the
  whole fragment goes through ``nh3`` with a small allowlist (links: http, https, mailto, relative).
  Only the constant ``<style>`` block is added after sanitising.
* ``text/markdown`` may reach a viewer that passes raw HTML through, so outside code blocks ``<`` and
  ``&`` are escaped and link destinations with other schemes than http/https/mailto are broken.
* ``text/plain`` is the raw text, never rendered; it leaves out times and ids so that nbval comparisons
  of a re-run notebook stay stable.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ._render_html import _html
from ._render_markdown import _markdown, _plain
from ._render_view import _View
from ._schema import REPORT_MIME

__all__ = ["report_bundle", "report_html", "report_markdown", "report_plain"]


def report_bundle(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The MIME bundle of a report document: the document itself and three fallbacks."""
    view = _View.of(doc)
    return {
        REPORT_MIME: copy.deepcopy(dict(doc)),
        "text/markdown": _markdown(view),
        "text/html": _html(view),
        "text/plain": _plain(view),
    }


def report_markdown(doc: Mapping[str, Any]) -> str:
    """The standalone Markdown document (plain CommonMark plus tables; raw HTML neutralised)."""
    return _markdown(_View.of(doc))


def report_html(doc: Mapping[str, Any]) -> str:
    """The sanitised HTML fragment (with its small style block)."""
    return _html(_View.of(doc))


def report_plain(doc: Mapping[str, Any]) -> str:
    """The plain-text form: status, question, report and sources; no times or ids."""
    return _plain(_View.of(doc))

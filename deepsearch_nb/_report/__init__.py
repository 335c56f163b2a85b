"""Layer 4, the report: the saved document of a run, its schema, and its renderers. Needs no kernel.

The CLI, the server and nbconvert-style readers import this package without ipywidgets or IPython.
"""

from ._build import report_document
from ._document import Report
from ._render import report_bundle, report_html, report_markdown, report_plain
from ._schema import REPORT_MIME, SCHEMA_VERSION, check_document, load_schema

__all__ = [
    "REPORT_MIME",
    "SCHEMA_VERSION",
    "Report",
    "check_document",
    "load_schema",
    "report_bundle",
    "report_document",
    "report_html",
    "report_markdown",
    "report_plain",
]

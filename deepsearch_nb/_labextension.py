"""Where JupyterLab finds the report renderer that ships inside this package.

A pip install copies the built extension to ``share/jupyter/labextensions`` (the wheel's
shared-data), which is all JupyterLab needs. This hook is the other way in: tools such as
``jupyter labextension develop`` ask the package itself where its built extension lives.
"""

from __future__ import annotations

__all__ = ["LABEXTENSION_NAME", "_jupyter_labextension_paths"]

#: The npm package name; also the folder name under ``share/jupyter/labextensions``.
LABEXTENSION_NAME = "deepsearch-nb-labextension"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Return the built extension folder (relative to this package) and its install name."""
    return [{"src": "labextension", "dest": LABEXTENSION_NAME}]

"""The package version, whose one source is ``labextension/package.json``.

The build backend reads that file's ``version`` into the package metadata (``hatch-nodejs-version``,
``[tool.hatch.version]`` in pyproject.toml), so the Python package and the JupyterLab extension it
ships can never differ. An installed package (wheel or editable) reads its metadata; a source checkout
imported without installing reads package.json itself.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DISTRIBUTION = "deepsearch-nb"
PACKAGE_JSON = Path(__file__).resolve().parent.parent / "labextension" / "package.json"


def _read_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return str(json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["version"])


__version__ = _read_version()

"""The report fixtures and the packaging facts the JupyterLab extension relies on.

The TypeScript tests (``labextension/src/__tests__``) render the same fixtures, so a fixture that
drifts from the schema would make both test suites pass on data the Python side can never write.
The packaging checks catch the ways a release breaks without any code changing: a second place to
bump the version, a stale install, the npm name and the install folder drifting apart, or the report
MIME type spelt differently on the two sides.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from packaging.version import Version

import deepsearch_nb
from deepsearch_nb._labextension import LABEXTENSION_NAME, _jupyter_labextension_paths

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "tests" / "data" / "reports"
SCHEMA = ROOT / "deepsearch_nb" / "schemas" / "report.v1.schema.json"
PACKAGE_JSON = ROOT / "labextension" / "package.json"
TS_SOURCES = ROOT / "labextension" / "src"
VERSION_PY = ROOT / "deepsearch_nb" / "_version.py"
V1_FIXTURES = ["completed", "cancelled_partial", "failed", "hostile", "cited"]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = _load(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", V1_FIXTURES)
def test_v1_fixture_is_valid(validator: jsonschema.Draft202012Validator, name: str) -> None:
    doc = _load(REPORTS / f"{name}.json")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []


def test_unknown_version_fixture_is_refused_by_the_v1_schema(validator: jsonschema.Draft202012Validator) -> None:
    doc = _load(REPORTS / "unknown_version.json")
    assert doc["schema_version"] == 2
    assert not validator.is_valid(doc)


def test_every_fixture_is_covered() -> None:
    assert sorted(p.stem for p in REPORTS.glob("*.json")) == sorted([*V1_FIXTURES, "unknown_version"])


def test_completed_fixture_exercises_what_the_renderer_shows() -> None:
    doc = _load(REPORTS / "completed.json")
    indexes = {s["index"] for s in doc["sources"]}
    assert len(indexes) >= 3
    assert all(f"[citation:{i}]" in doc["report_markdown"] for i in indexes)
    assert [h["stage"] for h in doc["hitl"]] == ["clarification", "outline_review"]
    assert doc["hitl"][1]["outline"]["sections"]


def test_cited_fixture_is_a_checked_report_with_weak_citations() -> None:
    doc = _load(REPORTS / "cited.json")
    counts = doc["citation_check"]["counts"]
    assert doc["schema_minor"] == 1 and counts["verified"] > 0 and counts["weak"] > 0
    assert all(str(m["n"]) in doc["evidence"] for m in doc["citation_check"]["markers"])


def test_hostile_fixture_is_hostile_in_every_text_field() -> None:
    doc = _load(REPORTS / "hostile.json")
    for field in ("question", "title", "error", "report_markdown", "conversation_id"):
        assert "<" in doc[field], field
    assert any(s["url"].strip().lower().startswith("javascript:") for s in doc["sources"])
    assert any("<script" in s["title"] for s in doc["sources"])
    assert "javascript:" in doc["report_markdown"]
    assert "<script" in doc["evidence"]["1"]["passages"][0]["text"] and "<" in doc["citation_check"]["summary"]


def test_the_version_has_one_source_package_json() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["hatch"]["version"] == {"source": "nodejs", "path": "labextension/package.json"}
    assert any(req.startswith("hatch-nodejs-version") for req in pyproject["build-system"]["requires"])
    # No second literal to forget: _version.py holds no version number of its own.
    assert not re.search(r"\d+\.\d+\.\d+", VERSION_PY.read_text(encoding="utf-8"))


def test_the_installed_version_is_package_jsons() -> None:
    # A mismatch means the install is stale: `make install` (or pip install -e .) rebuilds the metadata.
    # The metadata holds npm's version in PEP 440 spelling (0.2.0-rc.1 becomes 0.2.0rc1).
    assert deepsearch_nb.__version__ == importlib.metadata.version("deepsearch-nb")
    assert Version(deepsearch_nb.__version__) == Version(_load(PACKAGE_JSON)["version"])


def test_a_source_checkout_that_was_never_installed_reads_package_json(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    spec = importlib.util.spec_from_file_location("_version_uninstalled", VERSION_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.__version__ == _load(PACKAGE_JSON)["version"]


def test_the_report_mime_type_is_one_constant_on_each_side() -> None:
    literal = re.compile(r"""['"`]application/vnd\.deepsearch\.report\+json['"`]""")
    hits = [
        (p.relative_to(TS_SOURCES).as_posix(), line)
        for p in sorted(TS_SOURCES.rglob("*.ts"))
        for line in p.read_text(encoding="utf-8").splitlines()
        if literal.search(line)
    ]
    assert hits == [("widget.ts", f"export const MIME_TYPE = '{deepsearch_nb.REPORT_MIME}';")]


def test_package_json_declares_a_mime_extension_and_the_runs_plugin_built_into_the_package() -> None:
    """The report renderer is a MIME extension (it also renders where only mime extensions load); the
    runs sidebar and status-bar item are a plain plugin module beside it."""
    jupyterlab = _load(PACKAGE_JSON)["jupyterlab"]
    for module in (jupyterlab["mimeExtension"], jupyterlab["extension"]):
        assert module.startswith("lib/") and module.endswith(".js")
        assert (PACKAGE_JSON.parent / "src" / module.removeprefix("lib/").replace(".js", ".ts")).is_file()
    assert jupyterlab["mimeExtension"] != jupyterlab["extension"]
    assert (PACKAGE_JSON.parent / jupyterlab["outputDir"]).resolve() == ROOT / "deepsearch_nb" / "labextension"


def test_install_names_agree() -> None:
    name = _load(PACKAGE_JSON)["name"]
    assert name == LABEXTENSION_NAME
    assert _jupyter_labextension_paths() == [{"src": "labextension", "dest": name}]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["shared-data"]["deepsearch_nb/labextension"] == f"share/jupyter/labextensions/{name}"

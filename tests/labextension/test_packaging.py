"""The extension ships inside the wheel: built by the build backend, installed with no other step."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from deepsearch_nb import __version__
from deepsearch_nb._labextension import LABEXTENSION_NAME

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent


def test_the_development_install_lists_the_extension_enabled() -> None:
    listing = subprocess.run(
        [str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True, timeout=120, check=True
    )
    line = next(line for line in (listing.stdout + listing.stderr).splitlines() if LABEXTENSION_NAME in line)
    assert f"v{__version__}" in line and "enabled" in line and "OK" in line


@pytest.mark.skipif(shutil.which("node") is None, reason="building the wheel needs node")
def test_a_built_wheel_installs_the_extension_on_a_machine_without_node(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=600,
        env=build_env,
    )
    (wheel,) = dist.glob("deepsearch_nb-*.whl")
    prefix = f"deepsearch_nb-{__version__}.data/data/share/jupyter/labextensions/{LABEXTENSION_NAME}/"
    names = zipfile.ZipFile(wheel).namelist()
    assert prefix + "package.json" in names
    assert any(n.startswith(prefix + "static/remoteEntry.") for n in names)
    assert any(n.startswith("deepsearch_nb/data/corpus/") for n in names)
    assert "deepsearch_nb/data/templates/policy-brief.md" in names  # the shipped report templates (issue 17)
    assert "deepsearch_nb/schemas/report.v1.schema.json" in names
    # the server extension of the runs sidebar is enabled by the config the wheel installs (issue 18)
    assert f"deepsearch_nb-{__version__}.data/data/etc/jupyter/jupyter_server_config.d/deepsearch_nb.json" in names

    target = tmp_path / "fresh"
    venv.create(target, with_pip=True)
    no_node = {**os.environ, "PATH": f"{target / 'bin'}{os.pathsep}/usr/local/sbin:/sbin"}  # no node on PATH
    subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        timeout=300,
        env=no_node,
    )
    installed = target / "share" / "jupyter" / "labextensions" / LABEXTENSION_NAME
    assert (installed / "package.json").is_file()
    assert (installed / "install.json").is_file()
    listing = subprocess.run(
        [str(BIN / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "JUPYTER_PATH": str(target / "share" / "jupyter")},
        check=True,
    )
    assert str(target / "share" / "jupyter" / "labextensions") in listing.stdout + listing.stderr

"""Real kernels for the panel: the venv's ipykernel 7, and ipykernel 6 shadowing it from a test-owned folder.

ipykernel 6 is installed once with ``pip install --target .venv/ipykernel6 --no-deps`` (its dependencies
at the versions it needs are the venv's own), never into the venv itself; the kernel is started with
``PYTHONPATH`` pointing there, and each test asserts which version answered.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._kernel import IPYKERNEL6_DIR, KernelSession

SETUP = """\
import json
import deepsearch_nb
from deepsearch_nb import DEMO_ANSWERS, DEMO_QUESTION, REPORT_MIME, LocalResearchAgent, research, stats
"""


def _install_ipykernel6() -> Path:
    marker = IPYKERNEL6_DIR / "ipykernel" / "__init__.py"
    if marker.exists():
        return IPYKERNEL6_DIR
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--target",
        str(IPYKERNEL6_DIR),
        "--no-deps",
        "ipykernel>=6.29,<7",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0 or not marker.exists():
        pytest.fail(f"could not install ipykernel 6 into {IPYKERNEL6_DIR}:\n{done.stderr}")
    return IPYKERNEL6_DIR


@pytest.fixture(scope="session")
def ipykernel6_path() -> Path:
    return _install_ipykernel6()


@pytest.fixture(scope="module", params=["7", "6"], ids=["ipykernel7", "ipykernel6"])
def kernel(request: pytest.FixtureRequest) -> Iterator[KernelSession]:
    """One kernel per module and ipykernel major version, with deepsearch_nb imported."""
    major: str = request.param
    path = request.getfixturevalue("ipykernel6_path") if major == "6" else None
    session = KernelSession(path)
    try:
        version = session.eval_json("__import__('ipykernel').__version__")
        assert version.split(".")[0] == major, f"expected ipykernel {major}, the kernel runs {version}"
        session.execute(SETUP)
        session.major = int(major)
        yield session
    finally:
        session.shutdown()

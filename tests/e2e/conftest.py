"""Fixtures for the browser tests: a real JupyterLab server and a real Chromium driven by Playwright
(:class:`~deepsearch_nb.testing.LabServer`, :class:`~deepsearch_nb.testing.LabPage`, shipped with the library).

* ``lab_server``: JupyterLab on 127.0.0.1, a free port and a random token, every Jupyter directory in a
  temporary home, in its own process group, stopped by its PID when the package's tests end.
* ``make_lab_server``: more servers on the same notebooks (``root_dir``) and data dir, e.g. one with the
  report extension disabled (``jupyter labextension disable --level=user`` in that server's own config dir,
  so the virtual environment is never touched).
* ``browser``: Chromium at /usr/bin/chromium (never ``playwright install``); skipped, with the reason, only
  when that browser is not installed.
* ``lab``: a fresh browser context + page per test whose every request that is not to 127.0.0.1 is aborted
  and recorded; dialogs (``alert``...) are recorded and dismissed. :class:`LabPage` opens notebooks, runs
  cells through JupyterLab's own commands, reads outputs from the notebook model, saves, shuts kernels
  down and takes screenshots into ``test-artifacts/e2e/``.

The fixtures are package-scoped, not session-scoped: Playwright's sync API leaves its event loop marked as
running in the main thread between calls, which would break the asyncio tests of the other directories.

Run: ``.venv/bin/python -m pytest tests/e2e -m browser -x``. Artifacts (screenshots, step timings, server
logs, and on failure a screenshot plus the page's errors) go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from deepsearch_nb import testing
from deepsearch_nb.testing import (
    CHROMIUM,
    LabPage,
    LabServer,
    chromium,
    extension_name,
    find_extension,
    link_built_extension,
)

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
LABEXTENSION_SRC = REPO / "labextension" / "package.json"


@pytest.fixture(scope="package")
def lab_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jupyterlab-e2e")


@pytest.fixture(scope="package")
def make_lab_server(lab_home: Path) -> Iterator[Callable[..., LabServer]]:
    """A factory of servers sharing one ``root_dir`` and data dir; all stopped at the end."""
    root_dir = lab_home / "notebooks"
    root_dir.mkdir(exist_ok=True)
    data_dir = lab_home / "data"
    data_dir.mkdir(exist_ok=True)
    link_built_extension(data_dir)
    started: list[LabServer] = []

    def factory(name: str, *, disabled_extensions: tuple[str, ...] = ()) -> LabServer:
        server = testing.make_lab_server(lab_home, name, root_dir, data_dir, disabled_extensions)
        started.append(server)
        server.start()
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.stop()
        # Keep the logs of every server with the artifacts (they explain a failure after the fact).
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for server in started:
            if server.log_path.exists():
                shutil.copyfile(server.log_path, ARTIFACTS / f"server-{server.name}.log")


@pytest.fixture(scope="package")
def lab_server(make_lab_server: Callable[..., LabServer]) -> LabServer:
    return make_lab_server("main")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; `make test` does it)")
    with chromium() as browser:
        yield browser


def _test_slug(node: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name)


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def new_lab_page(browser: Any, server: LabServer, test_name: str) -> tuple[Any, LabPage]:
    """A fresh context and page (every non-local request aborted), screenshots into ``ARTIFACTS``."""
    return testing.new_lab_page(browser, server, test_name, artifacts=ARTIFACTS)


@pytest.fixture
def lab(browser: Any, lab_server: LabServer, request: pytest.FixtureRequest) -> Iterator[LabPage]:
    """A JupyterLab page on the main server; on failure a screenshot and the console go to the artifacts."""
    context, page = new_lab_page(browser, lab_server, _test_slug(request.node))
    try:
        yield page
    finally:
        close_lab_page(request.node, context, page)
        lab_server.shutdown_kernels()
    if _call_passed(request.node):  # a failed test has said what went wrong already
        page.assert_no_external_requests()


@pytest.fixture(scope="package")
def noext_server(make_lab_server: Callable[..., LabServer]) -> LabServer:
    """A second server on the same notebooks with the report extension disabled (the fallbacks show)."""
    if not LABEXTENSION_SRC.exists():
        pytest.fail(f"the report extension's sources are missing ({LABEXTENSION_SRC})")
    if find_extension() is None:
        pytest.fail("the report extension is neither installed nor built (make install builds it)")
    name = extension_name()
    server = make_lab_server("noext", disabled_extensions=(name,))
    config = json.loads((server.home / "config" / "labconfig" / "page_config.json").read_text(encoding="utf-8"))
    assert config.get("disabledExtensions", {}).get(name) is True, config
    return server


@pytest.fixture
def open_lab(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[LabServer], LabPage]]:
    """Pages on any server (more than one per test); each is checked for external requests at the end."""
    opened: list[tuple[Any, LabPage]] = []

    def factory(server: LabServer) -> LabPage:
        context, page = new_lab_page(browser, server, f"{_test_slug(request.node)}-{server.name}")
        opened.append((context, page))
        return page

    try:
        yield factory
    finally:
        for context, page in opened:
            close_lab_page(request.node, context, page)
            page.server.shutdown_kernels()
    if _call_passed(request.node):
        for _, page in opened:
            page.assert_no_external_requests()


def _call_passed(node: pytest.Item) -> bool:
    call = node.stash.get(_REPORTS, {}).get("call")
    return call is not None and call.passed


def close_lab_page(node: pytest.Item, context: Any, lab: LabPage) -> None:
    if lab.steps:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"{lab.test_name}-steps.txt").write_text(lab.step_report() + "\n", encoding="utf-8")
    reports = node.stash.get(_REPORTS, {})
    if any(r.failed for r in reports.values()):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            lab.screenshot("FAILED")
        notes = {
            "external_requests": lab.external_requests,
            "dialogs": lab.dialogs,
            "page_errors": lab.page_errors,
            "console_errors": lab.console_errors[-50:],
        }
        (ARTIFACTS / f"{lab.test_name}-FAILED.json").write_text(json.dumps(notes, indent=2), encoding="utf-8")
    with contextlib.suppress(Exception):
        context.close()

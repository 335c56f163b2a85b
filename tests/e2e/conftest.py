"""Fixtures for the browser tests: a real JupyterLab server and a real Chromium driven by Playwright.

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
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
LABEXTENSION_SRC = REPO / "labextension" / "package.json"
LABEXTENSION_BUILT = REPO / "deepsearch_nb" / "labextension"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Belt and braces: even a request the router missed cannot resolve any host but 127.0.0.1.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LOCAL_HOSTS = frozenset({"127.0.0.1"})
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
SERVER_START_TIMEOUT_S = 90.0
DEFAULT_TIMEOUT_MS = 30_000
KERNEL_TIMEOUT_MS = 60_000


# --- the server ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def extension_name() -> str:
    """The report renderer's npm name, from ``labextension/package.json``."""
    name: str = json.loads(LABEXTENSION_SRC.read_text(encoding="utf-8"))["name"]
    return name


def _installed_labextensions_dir() -> Path:
    return Path(sys.prefix) / "share" / "jupyter" / "labextensions"


@dataclass
class LabServer:
    """One running JupyterLab server (stop it with :meth:`stop`)."""

    name: str
    home: Path
    root_dir: Path
    env: dict[str, str]
    port: int
    token: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """Call the server's REST API with the token; the decoded JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url(path), data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def jupyter(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a ``jupyter`` subcommand with this server's environment (its own config and data dirs)."""
        return subprocess.run(
            [sys.executable, "-m", "jupyter", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    #: the application's module (``python -m``), its name in errors, and its own options
    app_module = "jupyterlab"

    @property
    def app_name(self) -> str:
        return f"JupyterLab {self.name}"

    def app_options(self) -> list[str]:
        return [
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            self.app_module,
            "--allow-root",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            *self.app_options(),
            "--LabApp.extension_manager=readonly",  # the server itself never asks PyPI either
        ]
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.root_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg stops it and its kernels
            )
        finally:
            log.close()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.app_name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.api("GET", "api/status", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.app_name} not ready in {SERVER_START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self) -> None:
        """Stop the server's process group (SIGTERM, then SIGKILL), by the PID we started."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        pgid = proc.pid  # start_new_session: the group id is the server's PID
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Kernels are in the same group; make sure none outlives the server.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

    def shutdown_kernels(self) -> None:
        """Delete every session (and its kernel), so a test leaves no kernel running."""
        if self.proc is None:
            return
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            for session in self.api("GET", "api/sessions") or []:
                with contextlib.suppress(urllib.error.HTTPError):
                    self.api("DELETE", f"api/sessions/{session['id']}")


def _make_server(base: Path, name: str, root_dir: Path, data_dir: Path, disabled: tuple[str, ...]) -> LabServer:
    home = base / name
    env = dict(os.environ)
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
        "JUPYTER_DATA_DIR": data_dir,  # shared: the notebook signatures (trust) carry over between servers
    }
    for key, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[key] = str(path)
    # No "get notified about Jupyter news?" toast over the screenshots, no update check.
    notification = home / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # No build check (it costs seconds of CPU per page load); `labextension disable` merges into this file.
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps({"buildCheck": False, "buildAvailable": False}))
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    # `jupyter ...` subcommands and the python3 kernel resolve to this virtual environment.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    server = LabServer(
        name=name,
        home=home,
        root_dir=root_dir,
        env=env,
        port=_free_port(),
        token=secrets.token_hex(24),
        log_path=home / "server.log",
    )
    for ext in disabled:
        done = server.jupyter("labextension", "disable", "--level=user", ext)
        if done.returncode != 0:
            raise RuntimeError(f"jupyter labextension disable {ext} failed:\n{done.stdout}\n{done.stderr}")
    return server


def _link_built_extension(data_dir: Path) -> None:
    """Make the built report extension visible to the test servers when it is built in the tree but the
    environment does not list it (e.g. an editable install): a link in the test's own data dir."""
    if not (LABEXTENSION_SRC.exists() and (LABEXTENSION_BUILT / "package.json").exists()):
        return
    name = extension_name()
    if (_installed_labextensions_dir() / name / "package.json").exists():
        return
    target = data_dir / "labextensions" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(LABEXTENSION_BUILT, target_is_directory=True)


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
    _link_built_extension(data_dir)
    started: list[LabServer] = []

    def factory(name: str, *, disabled_extensions: tuple[str, ...] = ()) -> LabServer:
        server = _make_server(lab_home, name, root_dir, data_dir, disabled_extensions)
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


# --- notebooks -------------------------------------------------------------------------------------


def write_notebook(server: LabServer, name: str, cells: list[str] | tuple[str, ...] = ()) -> str:
    """Write a notebook (nbformat 4.5) of code cells into the server's root dir; its path relative to the root."""
    nb: dict[str, Any] = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    save_notebook(server, name, nb)
    return name


def save_notebook(server: LabServer, name: str, nb: dict[str, Any]) -> None:
    path = server.root_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def save_output_notebook(server: LabServer, name: str, bundle: Mapping[str, Any]) -> None:
    """A notebook whose one cell holds ``bundle`` as a saved output (to open without a kernel)."""
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "id": "cell-0",
        "metadata": {},
        "outputs": [{"output_type": "display_data", "data": dict(bundle), "metadata": {}}],
        "source": "report",
    }
    nb = {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}}}
    save_notebook(server, name, {**nb, "nbformat": 4, "nbformat_minor": 5})


def read_notebook(server: LabServer, name: str) -> dict[str, Any]:
    """The notebook file as JSON (as JupyterLab saved it)."""
    nb: dict[str, Any] = json.loads((server.root_dir / name).read_text(encoding="utf-8"))
    return nb


def output_text(outputs: list[dict[str, Any]]) -> str:
    """The text a person reads in an output area: streams, text/plain results; errors raise."""
    parts: list[str] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        elif kind in ("execute_result", "display_data"):
            plain = out.get("data", {}).get("text/plain", "")
            parts.append("".join(plain) if isinstance(plain, list) else plain)
        elif kind == "error":
            trace = "\n".join(out.get("traceback", []))
            raise AssertionError(f"the cell raised {out.get('ename')}: {out.get('evalue')}\n{_strip_ansi(trace)}")
    return "".join(parts)


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# --- the browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; `make test` does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # launch() gives every run a fresh, temporary user data dir (removed on close).
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.hostname in LOCAL_HOSTS


@dataclass
class LabPage:
    """A page of JupyterLab in a fresh browser context, with the helpers the flows need."""

    page: Any
    server: LabServer
    test_name: str
    external_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    path: str = ""
    steps: list[tuple[str, float]] = field(default_factory=list)

    def step(self, name: str) -> None:
        """Mark the start of a step; the durations are written to ``<test>-steps.txt`` at the end."""
        self.steps.append((name, time.monotonic()))

    def step_report(self) -> str:
        marks = [*self.steps, ("end", time.monotonic())]
        return "\n".join(f"{b - a:7.2f} s  {name}" for (name, a), (_, b) in itertools.pairwise(marks))

    # navigation ----------------------------------------------------------------------------------

    def open_notebook(self, path: str, *, kernel: bool = True, timeout_ms: int = KERNEL_TIMEOUT_MS) -> None:
        """Open a notebook (workspace reset) and wait until it is current and shown; with ``kernel`` also
        until its kernel is idle (to run cells). A page already open is reloaded by this."""
        self.path = path
        url = self.server.url(f"lab/tree/{quote(path)}?reset&token={self.server.token}")
        self.page.goto(url, wait_until="domcontentloaded")
        self.wait_app()
        if kernel:
            self.wait_notebook_ready(timeout_ms=timeout_ms)
        else:
            self.page.wait_for_function(
                """(path) => {
                    const w = window.jupyterapp.shell.currentWidget;
                    return !!w && !!w.context && w.context.path === path && w.context.isReady
                        && !!w.content && w.content.widgets.length > 0;
                }""",
                arg=path,
                timeout=timeout_ms,
                polling=100,
            )

    def wait_app(self) -> None:
        self.page.wait_for_function("() => window.jupyterapp !== undefined", timeout=DEFAULT_TIMEOUT_MS)
        self.page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")

    def wait_notebook_ready(self, *, timeout_ms: int = KERNEL_TIMEOUT_MS) -> None:
        self.page.wait_for_function(
            """(path) => {
                const w = window.jupyterapp.shell.currentWidget;
                if (!w || !w.context || !w.content || !w.sessionContext || w.context.path !== path) return false;
                if (!w.context.isReady) return false;
                const k = w.sessionContext.session && w.sessionContext.session.kernel;
                return !!k && k.status === 'idle';
            }""",
            arg=self.path,
            timeout=timeout_ms,
            polling=100,
        )

    def wait_kernel_idle(self, *, timeout_ms: int = KERNEL_TIMEOUT_MS) -> None:
        self.page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                return !!k && k.status === 'idle';
            }""",
            timeout=timeout_ms,
            polling=100,
        )

    # cells -------------------------------------------------------------------------------------------

    def run_cell(
        self, source: str | None = None, *, index: int | None = None, timeout_ms: int = KERNEL_TIMEOUT_MS
    ) -> list[dict[str, Any]]:
        """Run a cell through JupyterLab (``notebook:run-cell``) and return its outputs when it is done.

        ``index=None`` appends a new cell with ``source``; an existing index runs that cell, with its source
        replaced when ``source`` is given. Done = the execution count is set and the kernel is idle.
        """
        index = self.page.evaluate(
            """async ({index, source}) => {
                const app = window.jupyterapp;
                const nb = app.shell.currentWidget.content;
                if (index === null) {
                    nb.model.sharedModel.insertCell(nb.widgets.length, {cell_type: 'code', source: source || ''});
                    index = nb.widgets.length - 1;
                } else if (source !== null) {
                    nb.widgets[index].model.sharedModel.setSource(source);
                }
                const cell = nb.widgets[index];
                cell.model.executionCount = null;  // done = a new count arrives
                nb.activeCellIndex = index;
                nb.mode = 'command';
                void app.commands.execute('notebook:run-cell');
                return index;
            }""",
            {"index": index, "source": source},
        )
        self.page.wait_for_function(
            """(index) => {
                const w = window.jupyterapp.shell.currentWidget;
                const k = w.sessionContext.session && w.sessionContext.session.kernel;
                const cell = w.content.widgets[index];
                return cell.model.executionCount !== null && !!k && k.status === 'idle';
            }""",
            arg=index,
            timeout=timeout_ms,
            polling=100,
        )
        return self.outputs(index)

    def run_python(self, source: str, *, timeout_ms: int = KERNEL_TIMEOUT_MS) -> str:
        """Append a cell, run it, return the text it printed / returned (raises if the cell raised)."""
        return output_text(self.run_cell(source, timeout_ms=timeout_ms)).strip()

    def outputs(self, index: int) -> list[dict[str, Any]]:
        outs: list[dict[str, Any]] = self.page.evaluate(
            "(index) => window.jupyterapp.shell.currentWidget.content.widgets[index].model.outputs.toJSON()",
            index,
        )
        return outs

    def cell_node(self, index: int) -> Any:
        """A locator for the cell's DOM node (the cell at ``index`` of the current notebook)."""
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)

    # document and kernel ----------------------------------------------------------------------------

    def save(self, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Save through JupyterLab (``docmanager:save``) and wait until the model is clean."""
        self.page.evaluate("() => { void window.jupyterapp.commands.execute('docmanager:save'); }")
        self.page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.context.model.dirty === false",
            timeout=timeout_ms,
            polling=100,
        )

    def shutdown_kernel(self) -> None:
        self.page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.shutdown(); }")

    def trusted(self, index: int) -> bool:
        value: bool = self.page.evaluate(
            "(index) => window.jupyterapp.shell.currentWidget.content.widgets[index].model.trusted", index
        )
        return value

    # evidence ------------------------------------------------------------------------------------

    def screenshot(self, name: str, locator: Any = None) -> Path:
        """A PNG in ``test-artifacts/e2e/``: the page, or an element (its top part when it is taller than
        the window: an element screenshot of a scrolled notebook would stitch unrelated parts together)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.test_name}-{name}.png"
        if locator is None:
            self.page.screenshot(path=str(path))
            return path
        box = locator.bounding_box()
        view = self.page.viewport_size
        if box is None or view is None or box["height"] <= view["height"] - 40:
            locator.screenshot(path=str(path))
            return path
        locator.evaluate("(el) => el.scrollIntoView({block: 'start'})")
        box = locator.bounding_box()
        top = max(box["y"], 0)
        clip = {"x": box["x"], "y": top, "width": box["width"], "height": view["height"] - top}
        self.page.screenshot(path=str(path), clip=clip)
        return path

    def body_text(self) -> str:
        text: str = self.page.locator("body").inner_text()
        return text

    def assert_no_page_errors(self) -> None:
        """No uncaught exception in the page (a widget or renderer that crashed)."""
        assert self.page_errors == [], f"uncaught errors in the page: {self.page_errors}"

    def assert_no_external_requests(self) -> None:
        assert self.external_requests == [], f"requests left 127.0.0.1 (aborted): {self.external_requests}"


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
    """A fresh context (its own cookies and storage) and page, every non-local request aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    lab = LabPage(page=page, server=server, test_name=test_name)

    def guard(route: Any) -> None:
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            lab.external_requests.append(url)
            route.abort("blockedbyclient")

    def guard_ws(ws: Any) -> None:
        lab.external_requests.append(ws.url)
        ws.close()

    context.route("**/*", guard)
    context.route_web_socket(lambda url: not _is_local(url), guard_ws)

    def on_dialog(dialog: Any) -> None:
        if dialog.type != "beforeunload":
            lab.dialogs.append(f"{dialog.type}: {dialog.message}")
        with contextlib.suppress(Exception):
            dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: lab.page_errors.append(str(exc)))
    page.on("console", lambda msg: lab.console_errors.append(msg.text) if msg.type == "error" else None)
    return context, lab


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
    name = extension_name()
    installed = _installed_labextensions_dir() / name / "package.json"
    if not (installed.exists() or (LABEXTENSION_BUILT / "package.json").exists()):
        pytest.fail(f"the report extension is neither installed ({installed}) nor built ({LABEXTENSION_BUILT})")
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

"""JupyterLab in a real Chromium, driven by Playwright: :class:`LabPage` and :func:`chromium`.

:func:`chromium` launches Debian's Chromium (``/usr/bin/chromium``, never ``playwright install``) headless,
with no background networking and a host resolver that resolves nothing but 127.0.0.1.
:func:`new_lab_page` opens a fresh context whose every request that is not to 127.0.0.1 is aborted and
recorded; dialogs (``alert``...) are recorded and dismissed. :class:`LabPage` opens notebooks, runs cells
through JupyterLab's own commands, reads outputs from the notebook model, saves, shuts kernels down and
takes screenshots.

Playwright is imported only when a browser is launched (it is in the ``test`` extra), so importing
:mod:`deepsearch_nb.testing` never needs it.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ._lab import LabServer, link_built_extension, make_lab_server, output_text

CHROMIUM = Path("/usr/bin/chromium")
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
#: every WebSocket URL but one to 127.0.0.1. A pattern, not a predicate: Playwright routes through the
#: client each WebSocket a pattern matches, and a predicate matches all of them (it cannot be sent to the
#: browser), so a kernel's every message would go page -> driver -> this process -> driver -> page, and
#: wait there for the test's next Playwright call (a sleeping benchmark held each one 100-200 ms). A
#: WebSocket the pattern leaves out is the browser's own.
NON_LOCAL_WEBSOCKET = re.compile(r"^(?!wss?://127\.0\.0\.1(?::\d+)?(?:[/?#]|$))")
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
#: uncaught page errors that come from JupyterLab itself, not from this project, and are let through.
#: JupyterLab's comm code asks the kernel for a subshell per comm target and does not catch the request's
#: failure: a kernel restart landing while that request is in flight (the widget manager reopens its
#: control comm as the kernel reconnects) leaves the cancelled future uncaught (CommHandler._maybeStartSubshell;
#: seen once in about ten runs of the whole browser suite).
UPSTREAM_PAGE_ERRORS = ("Canceled future for create_subshell_request message before replies were done",)
DEFAULT_TIMEOUT_MS = 30_000
KERNEL_TIMEOUT_MS = 60_000


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's sync API), closed on exit; a clear error when it is missing."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # launch() gives every run a fresh, temporary user data dir (removed on close).
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def is_local(url: str) -> bool:
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
    #: where :meth:`screenshot` writes (the e2e tests: ``test-artifacts/e2e/``)
    artifacts: Path = field(default_factory=lambda: Path("test-artifacts"))
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
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{self.test_name}-{name}.png"
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
        """No uncaught exception in the page (a widget or renderer that crashed), JupyterLab's own known
        ones (``UPSTREAM_PAGE_ERRORS``) aside."""
        errors = [e for e in self.page_errors if not any(known in e for known in UPSTREAM_PAGE_ERRORS)]
        assert errors == [], f"uncaught errors in the page: {errors}"

    def assert_no_external_requests(self) -> None:
        assert self.external_requests == [], f"requests left 127.0.0.1 (aborted): {self.external_requests}"


def new_lab_page(
    browser: Any, server: LabServer, test_name: str, *, artifacts: Path = Path("test-artifacts")
) -> tuple[Any, LabPage]:
    """A fresh context (its own cookies and storage) and page, every non-local request aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    lab = LabPage(page=page, server=server, test_name=test_name, artifacts=artifacts)

    def guard(route: Any) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            lab.external_requests.append(url)
            route.abort("blockedbyclient")

    def guard_ws(ws: Any) -> None:
        lab.external_requests.append(ws.url)
        ws.close()

    context.route("**/*", guard)
    context.route_web_socket(NON_LOCAL_WEBSOCKET, guard_ws)

    def on_dialog(dialog: Any) -> None:
        if dialog.type != "beforeunload":
            lab.dialogs.append(f"{dialog.type}: {dialog.message}")
        with contextlib.suppress(Exception):
            dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: lab.page_errors.append(str(exc)))
    page.on("console", lambda msg: lab.console_errors.append(msg.text) if msg.type == "error" else None)
    return context, lab


@contextlib.contextmanager
def lab_in_chromium(name: str) -> Iterator[LabPage]:
    """A JupyterLab of its own (a temporary home, notebooks folder and data dir, the built report
    extension linked) and a Chromium page on it, for a benchmark; everything stopped and removed on exit.
    Notebooks go into ``page.server.root_dir``."""
    with tempfile.TemporaryDirectory(prefix=f"deepsearch-{name}-") as tmp:
        base = Path(tmp)
        root, data = base / "notebooks", base / "data"
        root.mkdir()
        data.mkdir()
        link_built_extension(data)
        server = make_lab_server(base, name, root, data, ())
        server.start()
        try:
            with chromium() as browser:
                context, page = new_lab_page(browser, server, name, artifacts=base / "artifacts")
                try:
                    yield page
                finally:
                    context.close()
        finally:
            server.shutdown_kernels()
            server.stop()

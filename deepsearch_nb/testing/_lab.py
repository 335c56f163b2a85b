"""A real JupyterLab server for tests and benchmarks: :class:`LabServer` and the notebook files it serves.

Every Jupyter directory of a server lives in a temporary home of its own (config, runtime, settings,
workspaces, IPython), so a test or a benchmark never touches the user's set-up or the virtual
environment; the data dir may be shared between servers (notebook trust carries over). The server runs
on 127.0.0.1 with a free port and a random token, in its own process group, and :meth:`LabServer.stop`
stops it and its kernels by the PID it was started with. The report extension built in a source tree
is linked into the data dir when the environment does not list it (an editable install).

Shipped in :mod:`deepsearch_nb.testing` because the browser benchmarks (``python -m deepsearch_nb.bench
render``) start the same server as the browser tests do.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the package's built extension (``jlpm build`` writes it into the package)
LABEXTENSION_BUILT = Path(__file__).resolve().parents[1] / "labextension"
SERVER_START_TIMEOUT_S = 90.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def extension_name() -> str:
    """The report renderer's npm name, from the built extension's ``package.json``."""
    name: str = json.loads((LABEXTENSION_BUILT / "package.json").read_text(encoding="utf-8"))["name"]
    return name


def _installed_labextensions_dir() -> Path:
    return Path(sys.prefix) / "share" / "jupyter" / "labextensions"


def find_extension() -> Path | None:
    """Where the report extension is: installed in the environment, else built next to this package;
    None when it is neither (a server would render the fallbacks only)."""
    built = LABEXTENSION_BUILT / "package.json"
    if not built.exists():
        return None
    installed = _installed_labextensions_dir() / extension_name()
    return installed if (installed / "package.json").exists() else LABEXTENSION_BUILT


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


def make_lab_server(base: Path, name: str, root_dir: Path, data_dir: Path, disabled: tuple[str, ...]) -> LabServer:
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
    # The data dir leads the data path: in a virtual environment Jupyter puts the environment's own dirs
    # before the user's (JUPYTER_PREFER_ENV_PATH), and the report extension linked here must win.
    env["JUPYTER_PATH"] = str(data_dir)
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


def built_extension_entry() -> str:
    """The bundle entry of the extension built next to this package (``static/remoteEntry.<hash>.js``),
    to check which build a page loaded."""
    package = json.loads((LABEXTENSION_BUILT / "package.json").read_text(encoding="utf-8"))
    entry: str = package["jupyterlab"]["_build"]["load"]
    return entry


def link_built_extension(data_dir: Path) -> None:
    """Make the report extension built next to this package the one the test servers load: a link in
    the test's own data dir, when the environment lists no copy of it (an editable install) or a
    different build (another checkout's, e.g. a git worktree run with ``PYTHONPATH``). The data dir
    comes first on JupyterLab's extension path, so the link wins over the environment's copy."""
    if not (LABEXTENSION_BUILT / "package.json").exists():
        return
    name = extension_name()
    installed = _installed_labextensions_dir() / name / "package.json"
    if installed.exists() and installed.read_bytes() == (LABEXTENSION_BUILT / "package.json").read_bytes():
        return
    target = data_dir / "labextensions" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(LABEXTENSION_BUILT, target_is_directory=True)


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

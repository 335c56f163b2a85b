"""Real processes for the team-server tests: ``redis-server`` and ``deepsearch-nb serve`` on 127.0.0.1.

Every process is started here and stopped by its PID (terminate, then kill), in ``finally`` blocks and
fixture teardowns, so a failing test leaves nothing running.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

TOKEN = "tok-test-4f9a1c2e7b"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return True
        except OSError:
            time.sleep(0.03)
    return False


def stop_pid(proc: subprocess.Popen[Any], *, kill: bool = False) -> None:
    """Stop one process we started, by its PID."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class RedisProcess:
    """``redis-server`` on a fixed port of 127.0.0.1, without persistence; it can be stopped and restarted."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (make test installs it)")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.TemporaryDirectory()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir.name,
            ],
            stdout=subprocess.DEVNULL,
        )
        if not _wait_port(self.port, 10):
            self.stop()
            raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            stop_pid(self.proc)
            self.proc = None

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()


class ServerProcess:
    """``deepsearch-nb serve`` in a subprocess (one uvicorn worker), its log in a file."""

    def __init__(
        self,
        redis_url: str | None,
        *,
        token: str | None = TOKEN,
        pacing: float = 0.002,
        extra: Sequence[str] = (),
        template_db: str | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        self._log = tempfile.NamedTemporaryFile(prefix="deepsearch-serve-", suffix=".log", delete=False)  # noqa: SIM115 - lives as long as the server
        args = [sys.executable, "-m", "deepsearch_nb.cli", "serve", "--port", str(self.port), "--pacing", str(pacing)]
        if redis_url:
            args += ["--redis", redis_url]
        if token:
            args += ["--token", token]
        self._db_dir: tempfile.TemporaryDirectory[str] | None = None
        if template_db is None:  # its own SQLite file, never one in the repository
            self._db_dir = tempfile.TemporaryDirectory(prefix="deepsearch-serve-db-")
            template_db = f"sqlite:///{Path(self._db_dir.name) / 'templates.sqlite3'}"
        self.template_db = template_db
        args += ["--template-db", template_db]
        env = {k: v for k, v in os.environ.items() if k != "DEEPSEARCH_NB_TOKEN"}
        self.proc = subprocess.Popen([*args, *extra], stdout=self._log, stderr=subprocess.STDOUT, env=env)
        try:
            self._wait_ready(30)
        except BaseException:
            self.stop()
            raise

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.log()}")
            try:
                if httpx.get(self.url + "/health", headers=self.headers, timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the server did not become ready:\n{self.log()}")

    def health(self) -> dict[str, Any]:
        response = httpx.get(self.url + "/health", headers=self.headers, timeout=5)
        response.raise_for_status()
        return dict(response.json())

    def log(self) -> str:
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def stop(self, *, kill: bool = False) -> None:
        stop_pid(self.proc, kill=kill)

    def close(self) -> None:
        self.stop()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)
        if self._db_dir is not None:
            self._db_dir.cleanup()


async def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> None:
    """Poll ``predicate()`` (sync) until it is true; fail with what it last saw."""
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s (last: {value!r})")
        await asyncio.sleep(interval)


async def post(url: str, body: Mapping[str, Any], headers: Mapping[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url + "/api/v1/agent/deepsearch/run/", json=dict(body), headers=dict(headers))


async def sse_lines(response: httpx.Response) -> AsyncIterator[str]:
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            yield line[5:].strip()

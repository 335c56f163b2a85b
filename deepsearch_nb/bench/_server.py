"""The team server under load: two worker processes sharing a real Redis, the local agent paced like an LLM.

Loopback only, bounded in count and time. A ``redis-server`` and two ``deepsearch-nb serve`` processes
(one uvicorn worker each, on two ports: the rounds are forced onto different workers) are started here and
stopped by their PIDs. The local agent emits a chunk every 20 ms, about an LLM's token rate, so streams
overlap:

* **concurrent streams**: ``STREAMS`` research questions, alternately on both workers, 20 a second
  (``RAMP_S``); each streams its clarification questions, then the server holds it open at the question
  (as the seed does), so the open streams pile up to ``STREAMS``. Counted: the streams open at once on
  both workers (``/health``), requests that failed, and the time to each stream's first chunk under that
  load. The local agent spends about 25 ms of CPU on a new question (retrieval and grouping), so two
  workers on 2 cores sustain about 20-25 questions a second; at 50 a second they saturate and the first
  chunk waits seconds. The load phase talks raw HTTP/1.1 (one connection per stream): through one
  Python HTTP client, 500 streams measure mostly the client;
* **cancel across workers**: ``ROUNDS`` runs streaming on worker A, each cancelled by a request to worker
  B: from sending the cancel to A's stream delivering the cancel chunk;
* **resume on the other worker**: ``ROUNDS`` conversations paused on A and answered on B: from sending the
  answer to B's first chunk of the next round (A's held stream is closed meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["LABELS", "run"]

STREAMS = 500
RAMP_S = 25.0  # 20 new questions a second: what two workers on 2 cores sustain (see LABELS)
ROUNDS = 30
PACING_S = 0.02
DEADLINE_S = 240.0
_TOKEN = "tok-bench-0d5c"  # made up: the servers live only as long as the benchmark
_HEADERS = {"Authorization": f"Bearer {_TOKEN}"}
_RUN = "/api/v1/agent/deepsearch/run/"
_QUESTION = "What should a utility planner know about grid-scale battery storage?"
_NO_HITL = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}

LABELS = {
    "server_concurrent_streams": f"streams open at once on 2 workers (of {STREAMS} started; target >= 500)",
    "server_errors": "requests that failed (target 0)",
    "server_arrivals_per_s": "new questions a second while the streams pile up (each costs ~25 ms of CPU)",
    "server_first_chunk_ms_p50": "first chunk under that load, p50 (ms)",
    "server_first_chunk_ms_p99": "first chunk under that load, p99 (ms; target <= 250)",
    "server_cancel_ms_p50": "cancel sent to B -> cancel chunk on A's stream, p50 (ms)",
    "server_cancel_ms_p99": "cancel sent to B -> cancel chunk on A's stream, p99 (ms; target <= 100)",
    "server_resume_other_worker_ms_p50": "answer sent to B for a question held on A -> first chunk, p50 (ms)",
    "server_resume_other_worker_ms_p99": "answer sent to B for a question held on A -> first chunk, p99 (ms)",
    "server_pacing_ms": "the local agent's pace (ms per chunk)",
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _reachable(port: int) -> bool:
    socket.create_connection(("127.0.0.1", port), 0.2).close()
    return True


def _wait(check: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not listening yet (refused, reset, an httpx error)
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout:g} s")


@contextmanager
def _cluster() -> Iterator[tuple[str, str]]:
    """Redis and two servers on 127.0.0.1; every process stopped by its PID on the way out."""
    import httpx

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (make test installs it)")
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as workdir:
        try:
            redis_port = _port()
            procs.append(
                subprocess.Popen(
                    [
                        binary,
                        "--port",
                        str(redis_port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        workdir,
                        "--maxclients",
                        "2000",
                    ],
                    stdout=subprocess.DEVNULL,
                )
            )
            _wait(lambda: _reachable(redis_port), "redis-server")
            urls = []
            for _ in range(2):
                port = _port()
                args = [sys.executable, "-m", "deepsearch_nb.cli", "serve", "--port", str(port), "--token", _TOKEN]
                args += ["--redis", f"redis://127.0.0.1:{redis_port}/0", "--pacing", str(PACING_S)]
                args += ["--hitl-capacity", str(STREAMS * 2), "--log-level", "warning"]
                procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                url = f"http://127.0.0.1:{port}"
                _wait(lambda u=url: httpx.get(u + "/health", headers=_HEADERS, timeout=1).status_code == 200, url)
                urls.append(url)
            yield urls[0], urls[1]
        finally:
            for proc in reversed(procs):
                _stop(proc)


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


async def _raw_stream(url: str, body: dict[str, Any]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """POST ``body`` on a connection of its own, without an HTTP client library: the load phase measures the
    servers, and 500 streams through one Python HTTP client measure mostly the client."""
    host, _, port = url.removeprefix("http://").partition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    payload = json.dumps(body).encode()
    head = (
        f"POST {_RUN} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {_TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    writer.write(head.encode() + payload)
    status = await reader.readline()
    if b" 200 " not in status:
        writer.close()
        raise ConnectionError(status.decode(errors="replace").strip())
    return reader, writer


async def _concurrent(a: str, b: str, figures: dict[str, Any]) -> None:
    import httpx

    firsts: list[float] = []
    errors = 0
    settled = asyncio.Event()  # every stream is held at its question, or failed
    release = asyncio.Event()
    counts = {"waiting": 0, "failed": 0}

    def settle(key: str) -> None:
        counts[key] += 1
        if counts["waiting"] + counts["failed"] == STREAMS:
            settled.set()

    async def one(n: int) -> None:
        body = {"space_id": "bench", "conversation_id": f"load_{n}", "message": _QUESTION}
        t0 = time.perf_counter()
        writer = None
        try:
            reader, writer = await _raw_stream(a if n % 2 == 0 else b, body)
            first = True
            while line := await reader.readline():
                if first and line.startswith(b"data:"):
                    firsts.append(time.perf_counter() - t0)
                    first = False
                if b"waiting_user_input" in line:
                    settle("waiting")
                    await release.wait()  # held open by the server: kept until the count is taken
                    return
            settle("failed")  # the stream ended without its question
        except (OSError, ConnectionError):
            settle("failed")
        finally:
            if writer is not None:
                writer.close()

    tasks = []
    for n in range(STREAMS):
        tasks.append(asyncio.ensure_future(one(n)))
        await asyncio.sleep(RAMP_S / STREAMS)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(settled.wait(), 90)
    await asyncio.sleep(0.3)
    async with httpx.AsyncClient(timeout=30) as client:
        healths = [(await client.get(u + "/health", headers=_HEADERS)).json() for u in (a, b)]
        figures["server_concurrent_streams"] = sum(int(h["open_streams"]) for h in healths)
        release.set()
        await asyncio.wait(tasks, timeout=30)
        for n in range(STREAMS):  # end the held conversations (each cancel lands on the other worker)
            body = {"space_id": "bench", "conversation_id": f"load_{n}", "message": "", "interrupt_feedback": "cancel"}
            response = await client.post((b if n % 2 == 0 else a) + _RUN, json=body, headers=_HEADERS)
            if response.status_code != 200:
                errors += 1
    figures["server_errors"] = errors + counts["failed"]
    figures["server_arrivals_per_s"] = round(STREAMS / RAMP_S, 1)
    figures["server_first_chunk_ms_p50"] = _ms(firsts, 0.5)
    figures["server_first_chunk_ms_p99"] = _ms(firsts, 0.99)


async def _cancels(a: str, b: str, figures: dict[str, Any]) -> None:
    import httpx

    headers = _HEADERS
    times: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(ROUNDS):
            body = {"space_id": "bench", "conversation_id": f"cancel_{n}", "message": _QUESTION, **_NO_HITL}
            async with client.stream("POST", a + _RUN, json=body, headers=headers) as response:
                lines = response.aiter_lines()
                async for line in lines:
                    if '"sub_reporter"' in line:
                        break
                t0 = time.perf_counter()
                cancel = {**body, "message": "", "interrupt_feedback": "cancel"}
                answer = await client.post(b + _RUN, json=cancel, headers=headers)
                if answer.json().get("status") != "forwarded":
                    figures["server_errors"] = figures.get("server_errors", 0) + 1
                async for line in lines:
                    if '"event": "cancel"' in line or '"event":"cancel"' in line:
                        times.append(time.perf_counter() - t0)
                        break
    figures["server_cancel_ms_p50"] = _ms(times, 0.5)
    figures["server_cancel_ms_p99"] = _ms(times, 0.99)


async def _resumes(a: str, b: str, figures: dict[str, Any]) -> None:
    import httpx

    headers = _HEADERS
    times: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(ROUNDS):
            body = {"space_id": "bench", "conversation_id": f"resume_{n}", "message": _QUESTION}
            async with client.stream("POST", a + _RUN, json=body, headers=headers) as held:
                async for line in held.aiter_lines():
                    if "waiting_user_input" in line:
                        break
                answer = {**body, "message": "Focus on costs and safety", "interrupt_feedback": "accepted"}
                t0 = time.perf_counter()
                async with client.stream("POST", b + _RUN, json=answer, headers=headers) as resumed:
                    async for line in resumed.aiter_lines():
                        if line.startswith("data:"):
                            times.append(time.perf_counter() - t0)
                            break
                    cancel = {**body, "message": "", "interrupt_feedback": "cancel"}
                    await client.post(b + _RUN, json=cancel, headers=headers)
    figures["server_resume_other_worker_ms_p50"] = _ms(times, 0.5)
    figures["server_resume_other_worker_ms_p99"] = _ms(times, 0.99)


async def _all(a: str, b: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    await _concurrent(a, b, figures)
    await _cancels(a, b, figures)
    await _resumes(a, b, figures)
    figures["server_pacing_ms"] = PACING_S * 1000
    return figures


def run() -> dict[str, Any]:
    with _cluster() as (a, b):
        return asyncio.run(asyncio.wait_for(_all(a, b), DEADLINE_S))

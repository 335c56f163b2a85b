"""Cancel forwarded to the worker that owns the run: in one process, and over a real Redis."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

from deepsearch_nb import ConfigurationError, RunState
from deepsearch_nb.runtime import CancelOutcome, LocalCancelBus, RedisCancelBus, RunManager
from deepsearch_nb.testing import Hang, ScriptedAgent


async def test_a_cancel_for_a_run_elsewhere_is_forwarded_on_the_bus() -> None:
    bus = LocalCancelBus()
    owner, other = RunManager(cancel_bus=bus), RunManager(cancel_bus=bus)
    run = owner.start(ScriptedAgent([Hang()]), "q", conversation_id="conv")
    assert await other.acancel("conv") is CancelOutcome.FORWARDED
    await asyncio.wait_for(run.wait(), 2)
    assert run.state is RunState.CANCELLED
    assert other.cancel("conv") is CancelOutcome.FORWARDED  # the sync form publishes in the background
    await other.drain(timeout=2)
    await owner.drain(timeout=2)
    assert owner.stats().is_idle and other.stats().is_idle


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (make test installs it)")
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
            stdout=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.mark.redis
async def test_a_cancel_reaches_another_worker_over_redis(redis_url: str) -> None:
    owner_bus, other_bus = RedisCancelBus(redis_url), RedisCancelBus(redis_url)
    await owner_bus.start()
    await other_bus.start()
    try:
        owner, other = RunManager(cancel_bus=owner_bus), RunManager(cancel_bus=other_bus)
        run = owner.start(ScriptedAgent([Hang()]), "q", space_id="team", conversation_id="conv")
        assert await other.acancel("conv", space_id="team") is CancelOutcome.FORWARDED
        await asyncio.wait_for(run.wait(), 5)
        assert run.state is RunState.CANCELLED
        await owner.drain(timeout=2)
        assert owner.stats().is_idle
    finally:
        await owner_bus.aclose()
        await other_bus.aclose()


@pytest.mark.redis
async def test_an_unreachable_redis_is_a_clear_configuration_error() -> None:
    bus = RedisCancelBus(f"redis://127.0.0.1:{_free_port()}/0")
    with pytest.raises(ConfigurationError, match=r"Cannot reach Redis at redis://127\.0\.0\.1"):
        await bus.start()
    assert await bus.publish("s", "c") is False

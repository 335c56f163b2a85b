"""The shipped test helpers the real-SDK tests rely on: the loopback guard, the send recorder, tasks_left."""

from __future__ import annotations

import asyncio
import contextvars
import socket
import time

import httpx
import pytest

from deepsearch_nb.agents import cancel_context
from deepsearch_nb.testing import NetworkBlocked, cancel_probe, loopback_only, record_http_sends, tasks_left

_seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="nothing")


async def _http_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
    await writer.drain()
    writer.close()


async def test_each_send_says_when_and_from_which_thread_task_and_context() -> None:
    server = await asyncio.start_server(_http_ok, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with loopback_only(), record_http_sends(probe=_seen.get) as sends:
            before = time.monotonic()

            async def send() -> None:
                _seen.set("the sender's context")
                async with httpx.AsyncClient() as client:
                    assert (await client.get(f"http://127.0.0.1:{port}/chat/completions")).text == "ok"

            await asyncio.create_task(send(), name="the sender")
        [sent] = sends.sends_after(before)
        assert (sent.method, sent.thread, sent.task) == ("GET", "MainThread", "the sender")
        assert sent.probe == "the sender's context"
        assert sends.after(before) == [f"http://127.0.0.1:{port}/chat/completions"]
        assert sends.after(time.monotonic()) == []
        assert "task 'the sender'" in sent.describe(before) and "probe: the sender's context" in sent.describe(before)
    finally:
        server.close()
        await server.wait_closed()


def test_the_guard_refuses_and_records_a_lookup_of_another_host() -> None:
    with pytest.raises(AssertionError, match="other than loopback"), loopback_only(), pytest.raises(NetworkBlocked):
        socket.getaddrinfo("example.invalid", 443)


async def test_tasks_left_waits_for_unwinding_tasks_and_names_a_leak() -> None:
    unwinding = asyncio.ensure_future(asyncio.sleep(0.05))
    assert await tasks_left(5) == []  # ended while we waited: not a leak
    assert unwinding.done()
    leak = asyncio.ensure_future(asyncio.Event().wait())
    try:
        assert await tasks_left(0.05) == [leak]
    finally:
        leak.cancel()


async def test_cancel_probe_tells_the_runs_event_from_none() -> None:
    assert cancel_probe() == "no cancel event in this context"
    event = asyncio.Event()
    token = cancel_context.set(event)
    try:
        assert cancel_probe() == f"event {id(event):#x} not set"
        event.set()
        assert cancel_probe().endswith(" set") and "not" not in cancel_probe()
    finally:
        cancel_context.reset(token)

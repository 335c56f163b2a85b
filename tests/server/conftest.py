"""A real Redis and two single-worker team servers sharing it, for the whole folder's cluster tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._support import RedisProcess, ServerProcess


@pytest.fixture(scope="package")
def redis() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="package")
def pair(redis: RedisProcess) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Servers A and B: two processes, one worker each, on two ports, one Redis."""
    a = ServerProcess(redis.url)
    try:
        b = ServerProcess(redis.url)
    except BaseException:
        a.close()
        raise
    try:
        yield a, b
    finally:
        a.close()
        b.close()

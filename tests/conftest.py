"""Shared fixtures. Fakes live in the package (deepsearch_nb.testing), not here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from deepsearch_nb.runtime import RunManager


@pytest.fixture
async def manager() -> AsyncIterator[RunManager]:
    """A manager whose bookkeeping must be empty, and no task left behind, when the test ends."""
    mgr = RunManager(cancel_grace_s=0.3)
    yield mgr
    await mgr.drain(timeout=5)
    stats = mgr.stats()
    assert stats.is_idle, f"the manager leaked: {stats}"
    current = asyncio.current_task()
    leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert not leftover, f"tasks left behind: {leftover}"

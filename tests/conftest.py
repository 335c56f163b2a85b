"""Shared fixtures. Fakes live in the package (deepsearch_nb.testing), not here."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator

import pytest

from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import tasks_left


def pytest_configure(config: pytest.Config) -> None:
    """Every run writes a transcript by default: in the tests (and the kernels and notebooks they start,
    which inherit the environment) into a temporary folder, never into the repository."""
    os.environ.setdefault("DEEPSEARCH_NB_TRANSCRIPTS", tempfile.mkdtemp(prefix="deepsearch-nb-test-transcripts-"))
    # The local agent's saved indexes likewise: never into the user's cache folder.
    os.environ["DEEPSEARCH_NB_CACHE_DIR"] = tempfile.mkdtemp(prefix="deepsearch-nb-test-cache-")


@pytest.fixture
async def manager(request: pytest.FixtureRequest) -> AsyncIterator[RunManager]:
    """A manager whose bookkeeping must be empty, and no task left behind, when the test ends.

    Its cancel grace is short (0.3 s: the fakes honour a cancel at once) unless the test is marked
    ``cancel_grace(seconds)``: the real SDK unwinds about six tasks on a cancel, which on a loaded machine
    can take longer than 0.3 s; a test that checks it is *not abandoned* must not measure the machine.
    """
    marker = request.node.get_closest_marker("cancel_grace")
    mgr = RunManager(cancel_grace_s=float(marker.args[0]) if marker else 0.3)
    yield mgr
    await mgr.drain(timeout=5)
    stats = mgr.stats()
    assert stats.is_idle, f"the manager leaked: {stats}"
    leftover = await tasks_left()  # a real agent's cancelled tasks may still be unwinding; a leak never ends
    assert not leftover, f"tasks left behind: {leftover}"

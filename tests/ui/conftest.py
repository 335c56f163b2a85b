"""Fixtures for the panel tests: recorded comms instead of a kernel, and a recorded display slot.

Explicit, not autouse: the report tests in this folder need none of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from deepsearch_nb._ui import _ipython
from deepsearch_nb.testing import CommRecorder, recording_comms


@pytest.fixture
def recorder() -> Iterator[CommRecorder]:
    """Every widget comm opened during the test is recorded; none may stay open at the end."""
    with recording_comms() as rec:
        yield rec


@dataclass
class Screen:
    """What the cell shows: (display id, update?, object) for each publish, in order."""

    calls: list[tuple[str, bool, Any]] = field(default_factory=list)

    def current(self, display_id: str) -> Any:
        shown = [obj for did, _, obj in self.calls if did == display_id]
        return shown[-1] if shown else None


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Screen:
    """Pretend to be in a kernel and record what the panel displays and replaces."""
    recorded = Screen()

    def publish(obj: Any, display_id: str, *, update: bool) -> None:
        recorded.calls.append((display_id, update, obj))

    monkeypatch.setattr(_ipython, "publish", publish)
    monkeypatch.setattr(_ipython, "in_kernel", lambda: True)
    return recorded

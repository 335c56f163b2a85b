"""Fixtures of the local research agent's tests; helpers live in ``_support``."""

from __future__ import annotations

import pytest

from deepsearch_nb import LocalResearchAgent

from ._support import CaptureShapes, load_capture_shapes


@pytest.fixture(scope="session")
def capture_shapes() -> CaptureShapes:
    return load_capture_shapes()


@pytest.fixture
def agent() -> LocalResearchAgent:
    """A fresh agent on the demo corpus (cheap: about 30 documents)."""
    return LocalResearchAgent()

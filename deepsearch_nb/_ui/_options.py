"""Helpers of ``research()``: checking its answer timeout, and making a running loop re-entrant for
``research_sync()`` called inside a notebook cell."""

from __future__ import annotations

import asyncio

from .._errors import ConfigurationError

__all__ = ["_allow_nested", "_check_timeout"]


def _allow_nested(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``loop`` re-entrant (nest-asyncio2, as ipykernel 7 ships; else nest-asyncio), on demand only."""
    try:
        import nest_asyncio2 as nest
    except ImportError:
        try:
            import nest_asyncio as nest
        except ImportError:
            raise ConfigurationError(
                "research_sync() was called inside a running event loop (a notebook cell?), which needs "
                "nest-asyncio2: pip install nest-asyncio2. Or use `report = await deepsearch_nb.research(...)`."
            ) from None
    nest.apply(loop)


def _check_timeout(value: object) -> float | str | None:
    if value is None:
        return None
    if value == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigurationError(f"answer_timeout must be 'auto', None or a number of seconds >= 0, not {value!r}.")
    return float(value)

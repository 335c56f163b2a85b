"""Percentiles for the benchmarks' latency figures (one definition, so p99 means the same everywhere)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

__all__ = ["percentile"]


def percentile(values: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (1..99), interpolated between samples; 0.0 for no samples."""
    if not values:
        return 0.0
    if len(values) < 2:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

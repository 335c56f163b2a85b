"""Benchmarks: ``python -m deepsearch_nb.bench NAME [--json]``.

Each benchmark is a module with ``run() -> dict[str, float | int | str]`` and ``LABELS``, a mapping
from each key to a human label for the table. Figures are printed, never asserted: speed and memory
targets live here, not in timed tests.
"""

from __future__ import annotations

__all__ = ["BENCHMARKS"]

BENCHMARKS: dict[str, str] = {
    "runtime": "deepsearch_nb.bench._runtime",
    "local-agent": "deepsearch_nb.bench._local_agent",
    "stream": "deepsearch_nb.bench._stream",
    "stream-browser": "deepsearch_nb.bench._stream_browser",
    "cancel": "deepsearch_nb.bench._cancel",
    "leak": "deepsearch_nb.bench._leak",
    "loop": "deepsearch_nb.bench._loop",
    "faults": "deepsearch_nb.bench._faults",
    "sdk": "deepsearch_nb.bench._sdk",
    "server": "deepsearch_nb.bench._server",
    "step": "deepsearch_nb.bench._step",
    "render": "deepsearch_nb.bench._render",
}

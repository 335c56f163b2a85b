"""The local agent's scale benchmark at a small size: keys and shape only (figures are printed, not asserted)."""

from __future__ import annotations

from deepsearch_nb.bench import _local_agent


def test_scale_figures_come_from_a_build_then_a_cached_load() -> None:
    figures = _local_agent._at_scale(300)
    assert set(figures) <= set(_local_agent.LABELS)
    assert figures["local_agent_docs_100k"] == 300
    for key in ("index_s", "index_peak_mb", "reindex_peak_mb"):
        assert figures[f"local_agent_{key}_100k"] > 0
    # A saved index of 300 documents loads in about 3 ms: rounded to ms it may read 0 on a fast machine (it
    # did once, in a CI run), so only its presence and sign are checked here.
    for key in ("index_cpu_s", "reindex_s", "reindex_cpu_s"):
        assert figures[f"local_agent_{key}_100k"] >= 0
    assert figures["local_agent_cache_mb_100k"] > 0  # the first process saved an index for the second

"""The public surface: a curated, sorted __all__ whose names all resolve, and nothing else public."""

from __future__ import annotations

import deepsearch_nb


def test_all_is_sorted_and_complete() -> None:
    public = sorted(name for name in vars(deepsearch_nb) if not name.startswith("_") or name == "__version__")
    modules = {"testing", "bench", "cli", "server"}  # submodules show up in vars() once imported
    assert deepsearch_nb.__all__ == sorted(deepsearch_nb.__all__)
    assert sorted(set(public) - modules) == sorted(deepsearch_nb.__all__)


def test_every_exported_error_derives_from_the_root() -> None:
    for name in deepsearch_nb.__all__:
        obj = getattr(deepsearch_nb, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, deepsearch_nb.DeepSearchError), name

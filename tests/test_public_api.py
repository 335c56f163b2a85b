"""The public surface: a curated, sorted __all__ whose names all resolve, and nothing else public."""

from __future__ import annotations

import deepsearch_nb


def _isort_style(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in dir(deepsearch_nb) if not name.startswith("_") or name == "__version__"}
    modules = {"annotations", "importlib", "TYPE_CHECKING", "Any"}  # the module's own imports
    modules |= {"testing", "bench", "cli", "server"}  # submodules show up once imported
    assert deepsearch_nb.__all__ == sorted(deepsearch_nb.__all__, key=_isort_style)
    assert sorted(public - modules) == sorted(deepsearch_nb.__all__)


def test_every_name_resolves_lazily_or_not() -> None:
    for name in deepsearch_nb.__all__:
        assert getattr(deepsearch_nb, name) is not None, name
    assert callable(deepsearch_nb._jupyter_labextension_paths)


def test_every_exported_error_derives_from_the_root() -> None:
    for name in deepsearch_nb.__all__:
        obj = getattr(deepsearch_nb, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, deepsearch_nb.DeepSearchError), name

"""The public surface: curated, sorted ``__all__``s whose names all resolve, nothing else public, and every
exported class or function naming its public home as ``__module__`` (as httpx does)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import pytest

import deepsearch_nb

PUBLIC_MODULES = ["deepsearch_nb", "deepsearch_nb.agents", "deepsearch_nb.runtime", "deepsearch_nb.testing"]
# What each module's namespace holds besides its __all__: its own imports and submodules.
_PLUMBING = {"annotations", "importlib", "TYPE_CHECKING", "Any", "publish_module", "lazy_attributes"}
_SUBMODULES = {"agents", "runtime", "testing", "bench", "cli", "server"}


def _isort_style(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_style)
    for attr in exported:  # resolve lazy names first, so the namespace is complete
        assert getattr(module, attr) is not None, attr
    public = {
        attr
        for attr, value in vars(module).items()
        if (not attr.startswith("_") or attr == "__version__") and not isinstance(value, types.ModuleType)
    }
    assert sorted(public - _PLUMBING - _SUBMODULES) == sorted(exported)


def test_the_root_is_what_a_notebook_user_types() -> None:
    assert len(deepsearch_nb.__all__) <= 25  # 24: frame(), the notebook's DataFrames as research sources; 25: resume()
    assert {"research", "research_sync", "reproduce", "compare", "Report", "RunState", "LocalResearchAgent"} <= set(
        deepsearch_nb.__all__
    )


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_exported_objects_name_a_public_module(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        obj = getattr(module, attr)
        if isinstance(obj, type | types.FunctionType):
            home = obj.__module__
            assert home in PUBLIC_MODULES, f"{name}.{attr} says it lives in {home}"
            assert getattr(importlib.import_module(home), attr) is obj


# Test doubles of foreign failures must look like them to the code under test (a refused connection,
# a third-party exception).
_FOREIGN_ERRORS = {"NetworkBlocked": OSError, "UnprintableError": Exception}


def test_every_exported_error_derives_from_the_root() -> None:
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if isinstance(obj, type) and issubclass(obj, Exception):
                assert issubclass(obj, _FOREIGN_ERRORS.get(attr, deepsearch_nb.DeepSearchError)), attr


def test_labextension_paths_stay_importable() -> None:
    assert callable(deepsearch_nb._jupyter_labextension_paths)


def test_import_is_light() -> None:
    """``import deepsearch_nb`` (and its public runtime) loads no widgets, IPython, numpy or httpx."""
    code = (
        "import sys, deepsearch_nb, deepsearch_nb.runtime, deepsearch_nb.agents\n"
        "heavy = {'ipywidgets', 'IPython', 'numpy', 'httpx', 'anywidget', 'bm25s'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"

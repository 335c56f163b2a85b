"""The only module that touches IPython: display, the execution count, the kernel's version, magics.

Everything is imported on use, so the rest of the ui layer (and anything importing it) loads where IPython
is absent; tests swap :func:`publish` to see what a cell shows.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "UsageError",
    "cell_id",
    "display",
    "execution_count",
    "in_kernel",
    "ipykernel_major",
    "publish",
    "user_namespace",
]


def _display_module() -> Any:
    import IPython.display

    return IPython.display


def display(obj: Any, *, raw: bool = False) -> None:
    """``IPython.display.display`` (a raw MIME bundle when ``raw``)."""
    _display_module().display(obj, raw=raw)


def publish(obj: Any, display_id: str, *, update: bool) -> None:
    """Display ``obj`` under ``display_id``, or replace what is shown there (a raw MIME bundle).

    The one place the panel talks to IPython's display system; tests swap it to see what a cell shows.
    """
    shown = _display_module()
    if update:
        shown.update_display(obj, display_id=display_id, raw=True)
    else:
        shown.display(obj, display_id=display_id)


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def user_namespace() -> dict[str, Any]:
    """The notebook's variables (IPython's ``user_ns``), empty outside IPython."""
    shell = _shell()
    namespace = getattr(shell, "user_ns", None) if shell is not None else None
    return namespace if isinstance(namespace, dict) else {}


def in_kernel() -> bool:
    """Inside a Jupyter kernel (where widgets and display ids reach a front end)?"""
    shell = _shell()
    return shell is not None and getattr(shell, "kernel", None) is not None


def cell_id() -> str | None:
    """The id of the notebook cell being executed (JupyterLab and Notebook 7 send it as ``cellId`` in the
    request's metadata), so the runs sidebar can go back to the cell that started a run."""
    shell = _shell()
    kernel = getattr(shell, "kernel", None) if shell is not None else None
    try:
        parent = kernel.get_parent("shell") if kernel is not None else None
    except Exception:  # an older ipykernel without channels in get_parent
        parent = getattr(kernel, "_parent_header", None)
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    value = metadata.get("cellId") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else None


def execution_count() -> int | None:
    """The running cell's execution count (to tell the cell that made a panel from later ones)."""
    shell = _shell()
    count = getattr(shell, "execution_count", None) if shell is not None else None
    return count if isinstance(count, int) else None


def ipykernel_major() -> int | None:
    """ipykernel's major version (6 holds widget clicks back while a cell awaits), None outside one."""
    try:
        import ipykernel
    except ImportError:
        return None
    try:
        return int(str(getattr(ipykernel, "__version__", "")).split(".")[0])
    except ValueError:
        return None


def UsageError(message: str) -> Exception:
    """IPython's ``UsageError`` (a one-line error in the cell, no traceback)."""
    from IPython.core.error import UsageError as _UsageError

    return _UsageError(message)

"""The house rules, checked on the source: layers import downward only, no import circle (type-checking
imports included), nothing below the UI loads widgets or IPython, and every module stays small."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "deepsearch_nb"
MAX_LINES = 400
# Each layer and what it may import from the package (besides itself, _errors, _secrets, _version, _public).
LAYERS = {
    "_protocol": set(),
    "_agents": {"_protocol"},
    "_runtime": {"_protocol", "_agents"},
    "_report": {"_protocol", "_agents", "_runtime"},
    "_ui": {"_protocol", "_agents", "_runtime", "_report"},
}
BASE = {"_errors", "_secrets", "_version", "_public"}
NO_FRONT_END = ("_protocol", "_agents", "_runtime", "_report")
FRONT_END_LIBRARIES = {"ipywidgets", "IPython", "ipykernel", "anywidget", "traitlets", "comm"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "labextension" not in p.parts}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module of the package that ``name`` imports, at any level of the file (TYPE_CHECKING too)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # `from . import _x` imports the submodule, not the package
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return {m for m in out if m in known and m != name}


def _external_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def test_no_import_circle() -> None:
    graph = _graph()
    # A package's __init__ re-exporting its own submodules is not a circle: drop those edges.
    edges = {m: {t for t in targets if not t.startswith(m + ".")} for m, targets in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


# The public facades belong to the layer whose names they list.
_FACADES = {"deepsearch_nb.agents": "_agents", "deepsearch_nb.runtime": "_runtime"}


def _layer(module: str) -> str | None:
    if module in _FACADES:
        return _FACADES[module]
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_layers_import_downward_only() -> None:
    wrong = []
    for module, targets in _graph().items():
        layer = _layer(module)
        if layer not in LAYERS:
            continue
        allowed = LAYERS[layer] | BASE | {layer}
        wrong += [f"{module} -> {t}" for t in targets if _layer(t) not in allowed]
    assert not wrong, wrong


def test_nothing_below_the_ui_touches_widgets_or_ipython() -> None:
    offenders = {
        name: sorted(_external_roots(path) & FRONT_END_LIBRARIES)
        for name, path in _modules().items()
        if _layer(name) in NO_FRONT_END
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_only_the_ipython_module_imports_ipython() -> None:
    users = sorted(name for name, path in _modules().items() if {"IPython", "ipykernel"} & _external_roots(path))
    assert users == ["deepsearch_nb._ui._ipython"]


def test_every_module_is_small() -> None:
    large = {
        name: lines
        for name, path in _modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not large, f"modules over {MAX_LINES} lines: {large}"

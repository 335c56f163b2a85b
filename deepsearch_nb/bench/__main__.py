"""Command line of the benchmarks: one JSON object per run with ``--json``, a table without."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Mapping

from . import BENCHMARKS


def _table(name: str, figures: Mapping[str, object], labels: Mapping[str, str]) -> str:
    rows = [(labels.get(key, key), key, _fmt(value)) for key, value in figures.items()]
    width = [max(len(r[i]) for r in rows) for i in range(3)] if rows else [0, 0, 0]
    lines = [f"benchmark: {name}"]
    lines += [f"  {a:<{width[0]}}  {c:>{width[2]}}   ({b})" for a, b, c in rows]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deepsearch_nb.bench", description=__doc__)
    parser.add_argument("name", choices=sorted(BENCHMARKS), help="which benchmark to run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    module = importlib.import_module(BENCHMARKS[args.name])
    figures = module.run()
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        print(_table(args.name, figures, getattr(module, "LABELS", {})))
    return 0


if __name__ == "__main__":
    sys.exit(main())

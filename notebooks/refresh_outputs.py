"""Re-execute the headless notebooks in place, so their committed outputs match the current agent.

Run it after a change to the offline agent or the report format (``pytest --nbval`` compares against
these outputs): ``.venv/bin/python notebooks/refresh_outputs.py``. The widget state nbclient stores in
the notebook metadata is dropped: every widget of the panel is closed when its report replaces it, so
that state would only be dead weight in the file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
HEADLESS = ("quickstart.ipynb", "reproducible_report.ipynb", "report_templates.ipynb")


def refresh(path: Path) -> float:
    start = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(names: list[str]) -> int:
    for name in names or HEADLESS:
        seconds = refresh(HERE / name)
        print(f"{name}: executed in {seconds:.1f} s")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

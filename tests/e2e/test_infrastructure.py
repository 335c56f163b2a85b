"""The harness itself: a server, a page, a kernel, a cell and the network guard."""

from __future__ import annotations

import pytest

from deepsearch_nb.testing import LabPage, write_notebook

pytestmark = pytest.mark.browser


def test_runs_a_cell_and_blocks_the_outside_world(lab: LabPage) -> None:
    path = write_notebook(lab.server, "e2e_infra.ipynb", ["print(1)"])
    lab.open_notebook(path)

    assert lab.run_cell(index=0) == [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    assert lab.run_python("import sys; print(sys.executable)").endswith("/.venv/bin/python")
    assert lab.run_python("import deepsearch_nb; print(deepsearch_nb.stats().is_idle)") == "True"

    # The guard: a request to anything but 127.0.0.1 is aborted and recorded.
    failed = lab.page.evaluate(
        "async () => { try { await fetch('https://example.com/x'); return false; } catch (e) { return true; } }"
    )
    assert failed
    assert lab.external_requests == ["https://example.com/x"]
    lab.external_requests.clear()
    lab.assert_no_external_requests()

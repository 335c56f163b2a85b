"""The harness itself: a server, a page, a kernel, a cell and the network guard."""

from __future__ import annotations

import time

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


def test_a_websocket_off_127_0_0_1_is_closed_and_recorded(lab: LabPage) -> None:
    lab.open_notebook(write_notebook(lab.server, "e2e_infra_ws.ipynb", []), kernel=False)
    closed = lab.page.evaluate(
        """() => new Promise((resolve) => {
            const ws = new WebSocket('wss://example.com/socket');
            ws.onclose = () => resolve(true);
            ws.onopen = () => resolve(false);
            setTimeout(() => resolve(false), 10000);
        })"""
    )
    assert closed
    assert lab.external_requests == ["wss://example.com/socket"]
    lab.external_requests.clear()


# A display updated from the kernel's loop 0.3 s after the cell, while the test sleeps.
PONG = """\
import asyncio, time
from IPython.display import display
handle = display("waiting", display_id=True)
pong_sent = []
def pong():
    pong_sent.append(time.time())
    handle.update("pong" + "-ok")
asyncio.get_running_loop().call_later(0.3, pong)
"""


def test_kernel_messages_reach_the_page_while_the_test_makes_no_playwright_call(lab: LabPage) -> None:
    """The kernel's WebSocket is the browser's own, not relayed through the test process (where a message
    would wait for the test's next Playwright call: a sleeping test, or a benchmark polling the page, would
    see every message late)."""
    lab.open_notebook(write_notebook(lab.server, "e2e_infra_pong.ipynb", []))
    lab.page.evaluate(
        """() => {
            const notebook = window.jupyterapp.shell.currentWidget.content.node;
            window.__pongShown = 0;
            new MutationObserver(() => {
                const areas = [...notebook.querySelectorAll('.jp-OutputArea')];
                const shown = areas.some((a) => a.textContent.includes('pong-ok'));
                if (shown && !window.__pongShown) window.__pongShown = Date.now();
            }).observe(notebook, {subtree: true, childList: true, characterData: true});
        }"""
    )
    lab.run_cell(PONG)
    time.sleep(2.0)  # no Playwright call: nothing the test process relays can move now
    shown_ms = lab.page.evaluate("() => window.__pongShown")
    sent_s = float(lab.run_python("print(pong_sent[0])"))
    assert shown_ms, "the display update never reached the page"
    assert shown_ms - sent_s * 1000 < 1000, f"the kernel's message took {shown_ms - sent_s * 1000:.0f} ms to show"

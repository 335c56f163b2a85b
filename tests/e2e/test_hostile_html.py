"""Flow 4: a report full of hostile HTML stays inert - in the extension's renderer and in the fallbacks.

Every payload tries to set ``window.__pwned`` (to a name saying which payload ran) or to open an ``alert``.
The fallback notebook is *trusted* (the servers share the signing key), which is the dangerous case:
JupyterLab inserts trusted HTML without sanitizing it and runs its scripts, so only deepsearch_nb's own
sanitizing stands between the report and the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from deepsearch_nb.testing import LabPage, LabServer, read_notebook, save_notebook, write_notebook

from ._panel import REPORT_MIME, fallback_output, final_report

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>window.__pwned = 'script'; alert('script')</script>",
    "<img src=\"x\" onerror=\"window.__pwned = 'img'; alert('img')\">",
    "<svg onload=\"window.__pwned = 'svg'\"><circle r='5'/></svg>",
    "<iframe srcdoc=\"<script>parent.__pwned = 'iframe'</script>\"></iframe>",
    "<details open ontoggle=\"window.__pwned = 'details'\">toggle</details>",
    "[click me](javascript:window.__pwned='mdlink')",
    "<a href=\"javascript:window.__pwned='alink'\">click me too</a>",
    "<a href=\"jav&#x09;ascript:window.__pwned='entity'\">click me three</a>",
    "<form action=\"javascript:window.__pwned='form'\"><button>click me four</button></form>",
    "<style>body { display: none }</style>",
]
TITLE = "<script>window.__pwned = 'title'</script><img src=x onerror=\"window.__pwned = 'title-img'\">Hostile"
SOURCES = [
    ("<img src=x onerror=\"window.__pwned = 'source-title'\">Evil source", "javascript:window.__pwned='source-url'"),
    ("A plain source", "docs/plain.md"),
]
QUESTION = "Is <b onmouseover=\"window.__pwned = 'question'\">this</b> safe?"
START = f"""\
import deepsearch_nb
from deepsearch_nb.testing import ScriptedAgent, report_round

payloads = {PAYLOADS!r}
sections = [p + " [citation:1] and [citation:2]." for p in payloads]
agent = ScriptedAgent(report_round(sections, sources={SOURCES!r}, title={TITLE!r}, accepted=False))
run = deepsearch_nb.research({QUESTION!r}, agent=agent)
"""

# What must not be in an output: script-capable elements, event handlers, script URLs.
_ACTIVE = """(index) => {
    const root = window.jupyterapp.shell.currentWidget.content.widgets[index].node.querySelector('.jp-OutputArea');
    const found = [];
    for (const el of root.querySelectorAll('script, iframe, object, embed, frame, form, base, meta')) {
        found.push('<' + el.localName + '>');
    }
    for (const el of root.querySelectorAll('*')) {
        for (const attr of el.attributes) {
            const value = attr.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
            if (attr.name.toLowerCase().startsWith('on') || attr.name.toLowerCase() === 'srcdoc'
                || value.startsWith('javascript:') || value.startsWith('vbscript:') || value.startsWith('data:text')) {
                found.push(el.localName + '[' + attr.name + '=' + attr.value + ']');
            }
        }
    }
    return found;
}"""


def check_inert(lab: LabPage, index: int = 0) -> None:
    """Nothing ran, nothing active is in the DOM, and clicking the would-be links runs nothing either."""
    active: list[str] = lab.page.evaluate(_ACTIVE, index)
    assert active == [], f"active content in the output: {active}"
    clickable = lab.cell_node(index).locator(".jp-OutputArea").locator("a, button").filter(has_text="click me")
    for i in range(clickable.count()):
        item = clickable.nth(i)
        if item.is_visible():
            item.click()
    assert lab.page.evaluate("() => typeof window.__pwned") == "undefined", (
        f"a payload ran: window.__pwned = {lab.page.evaluate('() => window.__pwned')!r}"
    )
    assert lab.dialogs == [], f"dialogs opened: {lab.dialogs}"
    # The <style> payload did not hide the page.
    assert lab.page.evaluate("() => getComputedStyle(document.body).display") != "none"
    expect(lab.page.locator(".jp-LabShell")).to_be_visible()


def run_report(lab: LabPage, name: str, source: str) -> str:
    """Run ``source`` (a research run that ends without questions) and wait for the extension's report."""
    path = write_notebook(lab.server, name, [source])
    lab.open_notebook(path)
    lab.run_cell(index=0)
    report = final_report(lab, 0)
    expect(report).to_be_visible(timeout=60_000)
    expect(report.locator(".deepsearch-status")).to_have_text("COMPLETED")
    return path


def markdown_only_copy(server: LabServer, path: str) -> str:
    """A copy of the notebook whose report output keeps only text/markdown and text/plain, then signed."""
    nb = read_notebook(server, path)
    out: dict[str, Any] = nb["cells"][0]["outputs"][0]
    out["data"] = {k: v for k, v in out["data"].items() if k in ("text/markdown", "text/plain")}
    copy = path.replace(".ipynb", "_md.ipynb")
    save_notebook(server, copy, nb)
    sign(server, copy)
    return copy


def sign(server: LabServer, path: str) -> None:
    """Sign a notebook with the servers' shared key: JupyterLab then treats its outputs as trusted."""
    signed = server.jupyter("trust", str(server.root_dir / path))
    assert signed.returncode == 0, signed.stderr


def open_fallbacks(plain: LabPage, path: str) -> Iterator[tuple[str, Any]]:
    """Open the saved notebook as a frontend without the extension shows it: its text/html, then (a signed
    copy with) its text/markdown. Both trusted - the case where JupyterLab itself sanitizes nothing."""
    plain.open_notebook(path, kernel=False)
    assert plain.trusted(0), "the saved notebook should be trusted (the worst case for the fallback)"
    output = fallback_output(plain, 0)
    expect(output).to_have_class(re.compile(r"\bjp-RenderedHTML\b"))
    yield "html", output
    md_path = markdown_only_copy(plain.server, path)
    plain.open_notebook(md_path, kernel=False)
    assert plain.trusted(0), "the Markdown-only copy should be trusted"
    output = fallback_output(plain, 0)
    expect(output).to_have_class(re.compile(r"\bjp-RenderedMarkdown\b"))
    yield "markdown", output


def test_hostile_report_is_inert_in_extension_and_fallbacks(
    lab: LabPage, open_lab: Callable[[LabServer], LabPage], noext_server: LabServer
) -> None:
    lab.step("extension")
    path = run_report(lab, "e2e_hostile.ipynb", START)
    report = final_report(lab, 0)
    # Text from the report data is shown as text: the hostile title reads literally.
    expect(report.locator(".deepsearch-title")).to_have_text(TITLE)
    expect(report).to_contain_text("Evil source")
    check_inert(lab)
    lab.screenshot("1-extension", report)
    lab.save()
    data = read_notebook(lab.server, path)["cells"][0]["outputs"][0]["data"]
    assert REPORT_MIME in data and "text/html" in data and "text/markdown" in data, sorted(data)
    lab.assert_no_external_requests()

    lab.step("fallbacks")
    plain = open_lab(noext_server)
    for n, (kind, output) in enumerate(open_fallbacks(plain, path), start=2):
        expect(output).to_contain_text("Evil source")
        check_inert(plain)
        plain.screenshot(f"{n}-{kind}-fallback", output)
    plain.assert_no_external_requests()

    lab.step("control")
    # Control: the same trusted fallback path DOES run a payload that deepsearch_nb did not sanitize, so
    # the checks above would have caught one.
    control = write_notebook(noext_server, "e2e_hostile_control.ipynb", ["pass"])
    nb = read_notebook(noext_server, control)
    nb["cells"][0]["outputs"] = [
        {"output_type": "display_data", "data": {"text/html": CONTROL_HTML, "text/plain": "control"}, "metadata": {}}
    ]
    save_notebook(noext_server, control, nb)
    sign(noext_server, control)
    plain.open_notebook(control, kernel=False)
    plain.page.wait_for_function("() => window.__pwned === 'control'", timeout=10_000)


CONTROL_HTML = '<img src="x" onerror="window.__pwned = \'control\'">'

# Content that makes a viewer fetch from elsewhere: a tracking pixel tells a third party who reads the report.
REMOTE = [
    '<img src="https://tracker.example/img.png" alt="pixel">',
    "![markdown pixel](https://tracker.example/md.png)",
    '<p style="background: url(https://tracker.example/css.png)">styled</p>',
    '<link rel="stylesheet" href="https://tracker.example/style.css">',
    '<video src="https://tracker.example/v.mp4" poster="https://tracker.example/poster.png"></video>',
]
REMOTE_START = f"""\
import deepsearch_nb
from deepsearch_nb.testing import ScriptedAgent, report_round

sections = [p + " [citation:1]." for p in {REMOTE!r}]
agent = ScriptedAgent(report_round(sections, sources=[("A source", "https://example.org/a")], accepted=False))
run = deepsearch_nb.research("Remote content?", agent=agent)
"""


class RemoteFetch(AssertionError):
    """A renderer made a request that left 127.0.0.1 (only this failure is the expected one)."""


def settle_media(lab: LabPage, output: Any) -> None:
    """Bring every image of the output into view and wait until each has loaded or failed (an aborted
    request counts as failed), so a request it would make has been made."""
    output.evaluate("(el) => el.querySelectorAll('img').forEach((img) => img.scrollIntoView())")
    output.evaluate("(el) => el.scrollIntoView()")
    lab.page.wait_for_function(
        "(el) => [...el.querySelectorAll('img')].every((img) => img.complete)", arg=output.element_handle()
    )


def test_hostile_report_fetches_nothing_remote(
    lab: LabPage, open_lab: Callable[[LabServer], LabPage], noext_server: LabServer
) -> None:
    path = run_report(lab, "e2e_remote.ipynb", REMOTE_START)
    leaks: dict[str, list[str]] = {}
    report = final_report(lab, 0)
    settle_media(lab, report)
    leaks["extension"] = list(lab.external_requests)
    lab.external_requests.clear()
    lab.save()

    plain = open_lab(noext_server)
    for kind, output in open_fallbacks(plain, path):
        settle_media(plain, output)
        leaks[kind] = list(plain.external_requests)
        plain.external_requests.clear()
    if any(leaks.values()):
        raise RemoteFetch(f"requests left 127.0.0.1 per renderer: {leaks}")

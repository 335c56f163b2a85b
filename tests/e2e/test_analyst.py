"""Issue 12: the panel and the report as an analyst meets them, in light and dark themes, by keyboard only.

One flow per theme, from Run to COMPLETED without a mouse: the focus lands in the answer box when a
question arrives, the issue's own answer is typed and sent with Ctrl+Enter, the outline is accepted with
Ctrl+Enter. At every stop: each thing is said once (the questions, the outline), and every text node of
the panel has a contrast of at least 4.5:1 (computed in the page from getComputedStyle). Then the report:
no section is named after a phrase of the answer, it mentions the region, its headings nest under its
title, the same contrast check holds, and every source and every citation opens something readable in
place (no 404, no page error). Screenshots of each stop go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from deepsearch_nb.testing import LabPage, write_notebook

from ._panel import final_report

pytestmark = pytest.mark.browser

QUESTION = "How do grid-scale batteries compare with other ways of storing electricity?"
ANSWER = "Europe and North America, 2015 to 2025, for a utility planner"
START = f"""\
import deepsearch_nb
from deepsearch_nb import LocalResearchAgent

run = deepsearch_nb.research({QUESTION!r}, agent=LocalResearchAgent(pacing=0.01))
"""
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}

# WCAG contrast of every visible text node under `root`, against the first opaque background behind it
# (translucent layers composited on the way up), the text colour's alpha and the elements' opacity applied.
_CONTRAST = """
(root) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const bg = parse(getComputedStyle(n).backgroundColor);
      if (bg && bg[3] > 0) {
        layers.push(bg);
        if (bg[3] >= 1) break;
      }
    }
    let base = [255, 255, 255, 1];
    if (!layers.length || layers[layers.length - 1][3] < 1) {
      base = parse(getComputedStyle(document.body).backgroundColor) || base;
      if (base[3] < 1) base = [255, 255, 255, 1];
    }
    for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
    return base;
  };
  const failures = [];
  let checked = 0;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.data.trim() || !el || el.closest('style, script, [hidden]')) continue;
    if (el.closest('button:disabled, textarea:disabled, input:disabled')) continue; // WCAG exempts them
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    let opacity = 1;
    for (let n = el; n; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
    if (opacity === 0) continue;
    const bg = background(el);
    const fg = parse(getComputedStyle(el).color);
    const text = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const [a, b] = [lum(text), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    checked++;
    if (ratio < 4.5) {
      failures.push({ text: node.data.trim().slice(0, 60), ratio: Math.round(ratio * 100) / 100,
        color: getComputedStyle(el).color, background: `rgb(${bg.slice(0, 3).map(Math.round).join(',')})`,
        cls: el.className && String(el.className).slice(0, 80) });
    }
  }
  return { checked, failures };
}
"""


def check_contrast(locator: Any, where: str) -> None:
    found: dict[str, Any] = locator.evaluate(_CONTRAST)
    assert found["checked"] > 5, f"{where}: no text was checked"
    assert not found["failures"], f"{where}: text below 4.5:1: {found['failures']}"


def set_theme(lab: LabPage, theme: str) -> None:
    name = THEMES[theme]
    lab.page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", name)
    lab.page.wait_for_function(
        "(t) => document.body.dataset.jpThemeName === t && document.body.dataset.jpThemeLight !== undefined",
        arg=name,
    )
    lab.page.wait_for_timeout(300)  # the theme's stylesheet applies after the attribute changes


def focus_in(lab: LabPage, selector: str) -> bool:
    found: bool = lab.page.evaluate(
        "(sel) => { const a = document.activeElement; return !!a && !!a.closest(sel); }", selector
    )
    return found


def count_in(locator: Any, text: str) -> int:
    return int(locator.inner_text().count(text))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_keyboard_only_from_question_to_report(lab: LabPage, theme: str) -> None:
    responses: list[str] = []
    lab.page.on("response", lambda r: responses.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    lab.step("open")
    path = write_notebook(lab.server, f"e2e_analyst_{theme}.ipynb", [START])
    lab.open_notebook(path)
    set_theme(lab, theme)
    cell = lab.cell_node(0)
    lab.run_cell(index=0)
    panel = cell.locator(".deepsearch-panel")

    lab.step("clarification")
    box = cell.locator(".deepsearch-hitl")
    expect(box).to_be_visible(timeout=60_000)
    # The focus lands in the answer box when the question arrives (no 19 Tab presses).
    lab.page.wait_for_function(
        "() => !!document.activeElement && !!document.activeElement.closest('.deepsearch-hitl textarea, "
        "textarea.deepsearch-hitl-input, .deepsearch-hitl-input textarea')",
        timeout=10_000,
    )
    questions = cell.locator(".deepsearch-hitl-questions").inner_text().strip().splitlines()
    assert questions, "no clarification questions in the box"
    for line in questions:  # each question once: in the box, no longer in the stream
        assert count_in(panel, line.strip()) == 1, f"said more than once: {line!r}"
    assert count_in(panel, QUESTION) == 1
    expect(panel.locator(".deepsearch-cancel")).to_have_count(1)
    assert not panel.get_by_role("button", name=re.compile("Cancel run")).count()
    # Every control has an accessible name beyond its visible text.
    names = panel.locator("button:visible, textarea:visible").evaluate_all(
        "(els) => els.map((e) => e.getAttribute('aria-label') || '')"
    )
    assert names and all(names), names
    lab.screenshot(f"{theme}-1-clarification", panel)
    check_contrast(panel, f"{theme} panel at the clarification")

    lab.page.keyboard.type(ANSWER)
    lab.page.keyboard.press("Control+Enter")
    # The focus stays in the panel after sending (it does not drop to the page body).
    lab.page.wait_for_function(
        "() => !!document.activeElement && !!document.activeElement.closest('.deepsearch-panel')", timeout=10_000
    )

    lab.step("outline review")
    accept = cell.locator(".deepsearch-hitl-accept")
    expect(accept).to_be_visible(timeout=60_000)
    lab.page.wait_for_function(
        "() => !!document.activeElement && !!document.activeElement.closest('.deepsearch-hitl')", timeout=10_000
    )
    sections = cell.locator(".deepsearch-panel-outline-section").all_inner_texts()
    assert len(sections) >= 3, sections
    for title in sections:  # the outline once: in its box, not again as a line of the stream
        assert count_in(panel, title) == 1, f"the outline says {title!r} more than once"
        assert not re.search(r"2015|2025|utility planner|Europe|North America", title, re.IGNORECASE), title
    assert all("compare" in t or "versus" in t for t in sections), sections  # a comparison, compared
    expect(cell.locator(".deepsearch-hitl-advanced")).to_be_visible()
    lab.screenshot(f"{theme}-2-outline-review", panel)
    check_contrast(panel, f"{theme} panel at the outline review")
    lab.page.keyboard.press("Control+Enter")  # empty box: Accept

    lab.step("writing")
    lab.page.wait_for_function(
        "() => [...document.querySelectorAll('.deepsearch-panel .deepsearch-group-body')]"
        ".some((b) => b.textContent.length > 200)",
        timeout=60_000,
    )
    assert not cell.locator(".deepsearch-panel .deepsearch-group-body").filter(has_text="[citation:").count()
    lab.screenshot(f"{theme}-3-writing", panel)
    check_contrast(panel, f"{theme} panel while writing")

    lab.step("report")
    report = final_report(lab, 0)
    expect(report).to_be_visible(timeout=120_000)
    expect(report.locator(".deepsearch-status")).to_have_text("COMPLETED")
    body = report.locator(".deepsearch-body")
    expect(body).to_contain_text("Europe")
    assert body.locator("h1, h2").count() == 0 and body.locator("h3").count() >= 3  # nested under the title
    report_sections = body.locator("h3").all_inner_texts()
    assert not [s for s in report_sections if re.search(r"2015 to 2025|for a utility planner", s, re.I)]
    assert report.locator(".deepsearch-note").count() == 0
    lab.screenshot(f"{theme}-4-report", report)
    check_contrast(report, f"{theme} report")

    lab.step("sources")
    responses.clear()
    errors_before = len(lab.page_errors)
    buttons = report.locator(".deepsearch-source-open")
    count = buttons.count()
    assert count == report.locator(".deepsearch-sources > li").count() and count >= 8
    for i in range(count):
        button = buttons.nth(i)
        button.click()
        view = report.locator(".deepsearch-source-view").nth(i)
        expect(view).to_be_visible()
        assert len(view.inner_text().strip()) > 80, f"source {i + 1} opened nothing readable"
        button.click()  # fold it again
    # No source links to a path that would 404 (the demo corpus lives inside the package).
    hrefs = report.locator(".deepsearch-sources a").evaluate_all("(els) => els.map((a) => a.getAttribute('href'))")
    assert all(re.match(r"https?://|/files/", h or "") for h in hrefs), hrefs
    citations = report.locator("a.deepsearch-citation")
    assert citations.count() >= 5
    for i in range(citations.count()):
        link = citations.nth(i)
        target = (link.get_attribute("href") or "#")[1:]
        link.click()
        view = report.locator(f"[id='{target}'] .deepsearch-source-view")
        expect(view).to_be_visible()
        assert len(view.inner_text().strip()) > 80
        if i == 0:
            lab.screenshot(f"{theme}-5-citation-opened")
            # The landing highlight is an animation: measure the colours it settles to.
            lab.page.add_style_tag(content=".deepsearch-target { animation: none !important; }")
            check_contrast(report.locator(f"[id='{target}']"), f"{theme} opened source")
    assert responses == [], f"requests that failed: {responses}"
    assert lab.page_errors[errors_before:] == []
    lab.assert_no_page_errors()

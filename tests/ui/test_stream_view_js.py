"""The stream view's JavaScript, run in jsdom: deltas, several views, a late model's snapshot, safe links.

Needs node and jsdom (the lab extension's dev dependencies); skipped when they are not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ESM = REPO / "deepsearch_nb" / "_ui" / "_stream_view.js"
JSDOM = REPO / "labextension" / "node_modules" / "jsdom"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not JSDOM.is_dir(), reason="needs node and labextension/node_modules/jsdom"
)


@pytest.fixture(scope="module")
def seen() -> dict[str, Any]:
    assert NODE is not None
    script = Path(__file__).with_name("stream_view_check.mjs")
    out = subprocess.run(
        [NODE, str(script), str(ESM), str(JSDOM)], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_deltas_build_the_text_once_for_every_view(seen: dict[str, Any]) -> None:
    fresh = seen["fresh"]
    assert fresh["view1"] == ["Which region?", "Costs fell."]
    assert fresh["view2"] == fresh["view1"]  # a view created later shows everything
    assert fresh["titles"] == ["Clarifying the question", "Writing - section 1"]
    assert fresh["open"] == [False, True]  # the newest group is open, older ones fold
    assert fresh["progress"] == "clarifying"
    assert fresh["clock"].startswith("0:0")
    # An up-to-date model never asks for a snapshot; it reports each view it renders.
    assert fresh["sent"] == [{"event": "view"}, {"event": "view"}]


def test_sources_link_only_to_web_urls(seen: dict[str, Any]) -> None:
    assert seen["fresh"]["hrefs"] == ["https://example.org/a", None]
    assert seen["fresh"]["sourcesTitle"] == "Sources found (2)"


def test_a_late_model_asks_once_and_applies_the_snapshot(seen: dict[str, Any]) -> None:
    late = seen["late"]
    assert late["before"] == []  # nothing is shown out of order
    assert late["after"] == ["one two three four five six seven eight"]
    assert late["sent"] == [{"event": "view"}, {"event": "hello", "n": -1}]
    assert late["clock"] == "0:09"  # the run is over: the clock stopped at the kernel's figure


def test_a_silent_model_asks_after_a_moment(seen: dict[str, Any]) -> None:
    assert seen["silent"]["sent"] == [{"event": "hello", "n": -1}]


def test_the_stream_renders_headings_and_citations_lightly(seen: dict[str, Any]) -> None:
    """Issue 12, finding 5: no raw ``# Heading`` or ``[citation:2]`` tokens in the live stream."""
    light = seen["light"]
    assert light["headings"] == ["Costs"]
    assert light["cites"] == ["[2]", "[3, 4]"]
    assert light["text"][-1] == "CostsPrices fell [2] and rose [3, 4].More."
    assert "#" not in "".join(light["text"]) and "citation" not in "".join(light["text"])
    # A dropped group (the questions, once the box shows them) leaves the stream.
    assert light["beforeDrop"] == ["Clarifying", "Writing"] and light["afterDrop"] == ["Writing"]


def test_the_keyboard_path_through_the_question_box(seen: dict[str, Any]) -> None:
    """Issue 12, finding 4: focus moves to the box, Ctrl+Enter sends (Accept when empty), Escape leaves the
    box, focus stays in the panel after sending, and every control has an accessible name."""
    keys = seen["keys"]
    assert keys["focusedOnQuestion"]
    # The action and its text go to the kernel in one message (a click would race the value's sync).
    assert keys["answers"][:2] == [
        {"event": "hitl", "action": "send", "text": "Europe"},
        {"event": "hitl", "action": "accept", "text": ""},
    ]
    assert keys["clicks"] == []
    assert keys["afterEscape"] and keys["afterSend"]
    assert keys["labels"] == [
        "Cancel: Stop the research run",
        "Answer: Your answer to the agent",
        "Send answer: Send the text above to the agent",
        "Accept the outline",
        "Replace outline with this JSON: Use the outline JSON",
    ]


def test_a_click_on_an_answer_button_carries_the_text(seen: dict[str, Any]) -> None:
    """Issue 12 (found in the browser): a mouse click on Send went out before the text area's last value
    update (ipywidgets holds an update back behind an unanswered one, a click goes at once), so the answer
    lost its last words. A click now sends the action with the text in one message, like Ctrl+Enter; the
    button's own handler never fires, and a disabled button sends nothing."""
    keys = seen["keys"]
    assert keys["answers"][2:] == [
        {"event": "hitl", "action": "send", "text": "Europe and North America"},
        {"event": "hitl", "action": "replace", "text": '{"sections": []}'},
    ]
    assert keys["clicks"] == []
    assert keys["clearedAfterClick"]
    assert keys["region"] == ["region", "Research run"]

"""Small HTML and answer helpers of the panel: the status badge, the outline box, what a button sends."""

from __future__ import annotations

import html
import re

from .._protocol import HitlAnswer, Outline
from ..runtime import RunState
from ._hitl_box import HitlAction

__all__ = ["answer_for", "badge", "final_stage", "outline_html"]

_TONES = {
    RunState.RUNNING: "running",
    RunState.WAITING_USER_INPUT: "waiting",
    RunState.COMPLETED: "ok",
    RunState.FAILED: "error",
    RunState.CANCELLED: "neutral",
}


def answer_for(action: HitlAction, text: str) -> HitlAnswer:
    if action == "accept":
        return HitlAnswer.accept()
    if action == "revise":
        return HitlAnswer.revise(text)
    if action == "replace":
        return HitlAnswer.replace_outline(text)
    return HitlAnswer.answer(text)


def badge(state: RunState) -> str:
    """The status badge: its text is exactly the state name (browser tests compare it)."""
    return (
        f'<span class="deepsearch-badge deepsearch-tone-{_TONES[state]}" role="status" aria-live="polite" '
        f'aria-label="Run status">{state.value}</span>'
    )


def final_stage(state: RunState) -> str:
    return {RunState.COMPLETED: "done", RunState.CANCELLED: "cancelled", RunState.FAILED: "failed"}.get(
        state, state.value.lower()
    )


def _same_words(a: str, b: str) -> bool:
    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    return words(a) == words(b)


def outline_html(outline: Outline, question: str = "") -> str:
    """The outline box. Its title is left out when it only restates the question (the header shows it)."""
    items = []
    for section in outline.sections:
        item = f'<li><span class="deepsearch-panel-outline-section">{html.escape(section.title)}</span>'
        if section.description:
            item += f' <span class="deepsearch-panel-outline-description">- {html.escape(section.description)}</span>'
        items.append(item + "</li>")
    count = len(outline.sections)
    title = f"Outline ({count} section{'s' if count != 1 else ''})"
    if outline.title.strip() and not _same_words(outline.title, question):
        title += f": {outline.title.strip()}"
    return (
        f'<details open><summary class="deepsearch-panel-outline-title">{html.escape(title)}</summary>'
        f'<ol class="deepsearch-panel-outline-sections">{"".join(items)}</ol></details>'
    )

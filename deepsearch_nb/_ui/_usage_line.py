"""The panel's usage line: LLM tokens in and out so far, per stage, and the run's budget, live.

Kept out of the panel module (the panel only makes a :class:`UsageLine` and puts its widget in). It
listens to the run's own events (``UsageReported``: the runtime's record of what the endpoint counted),
so it shows what the report and transcript will record, never an estimate. Hidden until the first
report of usage or when the run has a budget; the budget itself is enforced by the runtime, not here.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..runtime import Run, RunEvent, StateChanged, UsageReported

__all__ = ["UsageLine", "usage_text"]


def usage_text(usage: dict[str, Any]) -> str:
    """``"Tokens: 1,234 in · 567 out (3 calls) — section 1: 900 · section 2: 901 — budget 5,000"``."""
    stages = usage.get("stages")
    rows = stages if isinstance(stages, list) else []
    head = f"Tokens: {int(usage.get('input_tokens') or 0):,} in · {int(usage.get('output_tokens') or 0):,} out"
    calls = int(usage.get("calls") or 0)
    head += f" ({calls} call{'s' * (calls != 1)})"
    parts = [
        f"{r['stage'].split(':')[0]}: {r['input_tokens'] + r['output_tokens']:,}" for r in rows if isinstance(r, dict)
    ]
    text = head + (" — " + " · ".join(parts) if parts else "")
    budget = usage.get("budget")
    if isinstance(budget, dict):
        limits = [f"{budget['tokens']:,} tokens" if budget.get("tokens") is not None else ""]
        limits.append(f"{budget['seconds']:g} s" if budget.get("seconds") is not None else "")
        text += " — budget " + ", ".join(x for x in limits if x)
        if budget.get("reached"):
            text += f": reached ({budget['reached']})"
    return text


class UsageLine:
    """One HTML line under the panel's header; updates on the run's loop as usage is reported."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.widget = widgets.HTML(value="", layout=widgets.Layout(display="none"))
        self.widget.add_class("deepsearch-usage")
        self._unsubscribe = run.subscribe(self._on_event)
        self._show()

    def _on_event(self, event: RunEvent) -> None:
        if isinstance(event, UsageReported) or (isinstance(event, StateChanged) and event.state.terminal):
            self._show()

    def _show(self) -> None:
        usage = self.run.usage
        if not usage.get("calls") and "budget" not in usage:
            return
        self.widget.value = f"<small>{html.escape(usage_text(usage))}</small>"
        self.widget.layout.display = None

    def close(self) -> None:
        self._unsubscribe()

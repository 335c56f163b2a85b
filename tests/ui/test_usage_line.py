"""The panel's live usage line (issue 15): tokens as the agent reports them, and the budget."""

from __future__ import annotations

import asyncio

from deepsearch_nb._ui._panel import ResearchPanel
from deepsearch_nb.runtime import Budget, RunManager, RunState, watch_budget
from deepsearch_nb.testing import CommRecorder, ScriptedAgent, Usage, WaitFor, report_round


def costly_agent(go: asyncio.Event) -> ScriptedAgent:
    """Reports 100 + 20 tokens for a "plan" call, then waits for ``go`` before writing the report."""
    report = report_round(["Tea began in China [citation:1]."], sources=[("Tea", "https://example.org/t")])
    return ScriptedAgent([Usage("plan", 100, 20), WaitFor(go), Usage("section 1: Tea", 300, 80), *report])


async def test_the_panel_shows_tokens_as_they_are_reported(recorder: CommRecorder, manager: RunManager) -> None:
    go = asyncio.Event()
    run = manager.start(costly_agent(go), "How did tea spread?")
    watch_budget(run, Budget(tokens=10_000))
    panel = ResearchPanel(run)
    try:
        for _ in range(100):
            if "Tokens: 100 in" in panel.usage.widget.value:
                break
            await asyncio.sleep(0.01)
        assert "Tokens: 100 in · 20 out (1 call) — plan: 120 — budget 10,000 tokens" in panel.usage.widget.value
        assert panel.usage.widget.layout.display is None
        go.set()
        assert await run.until_settled(timeout=10) is RunState.COMPLETED
        assert "Tokens: 400 in · 100 out (2 calls) — plan: 120 · section 1: 380" in panel.usage.widget.value
    finally:
        panel.close()


async def test_the_line_stays_hidden_without_usage(recorder: CommRecorder, manager: RunManager) -> None:
    from deepsearch_nb.testing import Hang, ScriptedAgent

    run = manager.start(ScriptedAgent([Hang()]), "q?")
    panel = ResearchPanel(run)
    try:
        assert panel.usage.widget.layout.display == "none" and panel.usage.widget.value == ""
    finally:
        run.cancel()
        await run.wait()
        panel.close()

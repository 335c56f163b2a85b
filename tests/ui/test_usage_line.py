"""The panel's live usage line (issue 15): tokens as the agent reports them, and the budget."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from deepsearch_nb._ui._panel import ResearchPanel
from deepsearch_nb.agents import report_usage
from deepsearch_nb.runtime import Budget, RunManager, RunState, watch_budget
from deepsearch_nb.testing import CommRecorder, report_round


class CostlyAgent:
    """Reports 100 + 20 tokens for a "plan" call, then waits for the test before writing the report."""

    def __init__(self) -> None:
        self.go = asyncio.Event()

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[str | Mapping[str, Any]]:
        report_usage("plan", 100, 20)
        await self.go.wait()
        report_usage("section 1: Tea", 300, 80)
        for chunk in report_round(["Tea began in China [citation:1]."], sources=[("Tea", "https://example.org/t")]):
            yield chunk


async def test_the_panel_shows_tokens_as_they_are_reported(recorder: CommRecorder, manager: RunManager) -> None:
    agent = CostlyAgent()
    run = manager.start(agent, "How did tea spread?")
    watch_budget(run, Budget(tokens=10_000))
    panel = ResearchPanel(run)
    try:
        for _ in range(100):
            if "Tokens: 100 in" in panel.usage.widget.value:
                break
            await asyncio.sleep(0.01)
        assert "Tokens: 100 in · 20 out (1 call) — plan: 120 — budget 10,000 tokens" in panel.usage.widget.value
        assert panel.usage.widget.layout.display is None
        agent.go.set()
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

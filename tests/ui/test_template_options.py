"""Report templates (issue 17) in the notebook's front ends: ``%%deepsearch --template`` and the panel's
line that says which template a run uses."""

from __future__ import annotations

from deepsearch_nb._ui._magics import parse_options
from deepsearch_nb._ui._panel import ResearchPanel
from deepsearch_nb.agents import resolve_template
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import CommRecorder, Hang, ScriptedAgent


def test_the_magic_passes_the_template_to_research() -> None:
    assert parse_options("--template policy-brief --no-hitl")["template"] == "policy-brief"
    assert parse_options("--template 'my templates/memo.md'")["template"] == "my templates/memo.md"
    assert "template" not in parse_options("")


async def test_the_panel_says_which_template_is_in_use(recorder: CommRecorder, manager: RunManager) -> None:
    brief = resolve_template("policy-brief")
    run = manager.start(ScriptedAgent([Hang()]), "What is grid storage?", report_template=brief)
    panel = ResearchPanel(run)
    try:
        assert "template: policy-brief" in panel.question.value
    finally:
        run.cancel()
        await run.wait()
        panel.close()
    plain = manager.start(ScriptedAgent([Hang()]), "Another question?")
    other = ResearchPanel(plain)
    try:
        assert "template" not in other.question.value
    finally:
        plain.cancel()
        await plain.wait()
        other.close()

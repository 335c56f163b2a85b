"""The tokens a run's LLM calls used, per stage (see ``_budget`` for how usage arrives and is limited)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._agents._usage import TokenUsage

__all__ = ["UsageLedger", "usage_from_result", "usage_summary"]


class UsageLedger:
    """Tokens per stage in the order stages first reported, and the totals."""

    def __init__(self) -> None:
        self.stages: dict[str, list[int]] = {}  # stage -> [input, output, calls]
        self.live = False  # some usage came from the agent as it went

    def add(self, usage: TokenUsage) -> None:
        row = self.stages.setdefault(usage.stage, [0, 0, 0])
        row[0] += usage.input_tokens
        row[1] += usage.output_tokens
        row[2] += usage.calls

    @property
    def input_tokens(self) -> int:
        return sum(r[0] for r in self.stages.values())

    @property
    def output_tokens(self) -> int:
        return sum(r[1] for r in self.stages.values())

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_json(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "calls": sum(r[2] for r in self.stages.values()),
            "stages": [
                {"stage": stage, "input_tokens": i, "output_tokens": o, "calls": c}
                for stage, (i, o, c) in self.stages.items()
            ],
        }


def usage_from_result(usage: Mapping[str, Any]) -> list[TokenUsage]:
    """The SDK's ``workflow_llm_token_usage`` as per-stage usage (its ``agent_name_token_usage``)."""
    rows = usage.get("agent_name_token_usage")
    out: list[TokenUsage] = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, Mapping):
            out.append(
                TokenUsage(
                    str(row.get("agent_name") or "llm"),
                    _count(row.get("input_tokens")),
                    _count(row.get("output_tokens")),
                    _count(row.get("llm_call_count")),
                )
            )
    if not out and (_count(usage.get("input_tokens")) or _count(usage.get("output_tokens"))):
        calls = _count(usage.get("llm_call_count"))
        out.append(TokenUsage("llm", _count(usage.get("input_tokens")), _count(usage.get("output_tokens")), calls))
    return out


def _count(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else 0


def usage_summary(
    ledger: UsageLedger, result_usage: Mapping[str, Any] | None, budget: Any, reached: str | None = None
) -> dict[str, Any]:
    """What a report and a panel show: the live ledger, else the final result's totals; and the budget."""
    if not ledger.live and result_usage:
        fallback = UsageLedger()
        for usage in usage_from_result(result_usage):
            fallback.add(usage)
        ledger = fallback
    out = ledger.to_json()
    if budget is not None and getattr(budget, "limited", False):
        out["budget"] = budget.to_json(reached)
    return out

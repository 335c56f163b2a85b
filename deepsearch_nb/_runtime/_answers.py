"""Scripted answers for HITL stops: what makes a run answerable without a person (nbclient, papermill, CI).

Two shapes, checked up front so a typo fails before the run starts rather than at the third question:

* a sequence: one answer per stop, in order, whatever the stage;
* a mapping per stage: ``{"clarification": "...", "outline_review": ["revise: add costs", "accept"]}``;
  a single value answers that stage once, a list answers its stops in order.

Each value is anything :meth:`HitlAnswer.coerce` reads ("accept", "revise: ...", outline JSON, prose, a
dict, a :class:`HitlAnswer`); it is coerced with the stage of the stop it answers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import InvalidInputError
from .._protocol import HitlAnswer, HitlStage

__all__ = ["Answers", "ScriptedAnswers"]

AnswerValue = HitlAnswer | str | dict[str, Any]
Answers = Sequence[AnswerValue] | Mapping[str, AnswerValue | Sequence[AnswerValue]]


def _check_value(value: object, where: str) -> AnswerValue:
    if isinstance(value, HitlAnswer | str | dict):
        return value
    raise InvalidInputError(
        f"{where} is a {type(value).__name__}; a scripted answer is a string ('accept', 'revise: ...', "
        "your answer), a dict {'feedback': ..., 'message': ...} or a HitlAnswer."
    )


class ScriptedAnswers:
    """Hands out the scripted answer for each stop; ``None`` once the script has none left."""

    def __init__(self, answers: Answers | None) -> None:
        self._in_order: deque[AnswerValue] = deque()
        self._by_stage: dict[HitlStage, deque[AnswerValue]] = {}
        self.used: list[HitlAnswer] = []
        if answers is None:
            return
        if isinstance(answers, Mapping):
            valid = ", ".join(repr(s.value) for s in HitlStage)
            for key, value in answers.items():
                try:
                    stage = HitlStage(str(key))
                except ValueError:
                    raise InvalidInputError(
                        f"answers has an unknown stage {key!r}; use one of {valid} (or give a list)."
                    ) from None
                values = [value] if isinstance(value, str | dict | HitlAnswer) else value
                if not isinstance(values, Sequence):
                    raise InvalidInputError(f"answers[{key!r}] must be an answer or a list of answers.")
                checked = [_check_value(v, f"answers[{key!r}][{i}]") for i, v in enumerate(values)]
                self._by_stage[stage] = deque(checked)
        elif isinstance(answers, Sequence) and not isinstance(answers, str):
            self._in_order.extend(_check_value(v, f"answers[{i}]") for i, v in enumerate(answers))
        else:
            raise InvalidInputError(
                "answers must be a list (one answer per question, in order) or a dict per stage "
                f"such as {{'clarification': '...', 'outline_review': ['accept']}}, not {type(answers).__name__}."
            )

    def next_for(self, stage: HitlStage) -> HitlAnswer | None:
        """The next answer for a stop at ``stage`` (consumed), coerced; ``None`` when none is left."""
        queue = self._by_stage.get(stage) if self._by_stage else self._in_order
        if not queue:
            return None
        answer = HitlAnswer.coerce(queue.popleft(), stage)
        self.used.append(answer)
        return answer

    @property
    def remaining(self) -> int:
        return len(self._in_order) + sum(len(q) for q in self._by_stage.values())

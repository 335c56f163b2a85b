"""What the user asked for: the question, refined by the answer to the clarification questions.

The answer changes retrieval in four visible ways: its words weigh twice the question's, each aspect it
names ("costs, fire safety and recycling") seeds a section of its own, what it asks to leave out ("not
policy", "skip recycling") removes documents whose titles name it, and the scope it sets (regions, a
period, an audience: :mod:`._scope`) filters and weighs the evidence without ever becoming a section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._scope import REGIONS, Scope, parse_scope
from ._text import content_terms, normalize_space, tokenize

__all__ = ["Focus"]

_NEGATION = re.compile(
    r"\b(?:not|no|skip|exclude|excluding|without|ignore|except|leave out|omit)\b\s+(?P<what>[^.;,!?]*?)"
    r"(?=\bbut\b|[.;,!?]|$)",
    re.IGNORECASE,
)
_ASPECT_SPLIT = re.compile(r"[,;:/&]|\band\b|\bor\b|\bplus\b|\bas well as\b", re.IGNORECASE)
# "recycling for a utility in the United States": the aspect is "recycling", the rest is context.
_ASPECT_TAIL = re.compile(r"\s+\b(?:for|in|with|across|at|within|from|of the|by)\b\s+.*$", re.IGNORECASE)
_ASPECT_LEAD = re.compile(
    r"^(?:please\s+)?(?:(?:i|we)\s+(?:care|want|need)\s+(?:about|to know about)\s+|"
    r"(?:(?:i|we)\s+am\s+|(?:i|we)'?re\s+)?interested\s+in\s+|"
    r"(?:focus|concentrate|look|zoom)\s+(?:in\s+)?(?:on|at)\s+|(?:mainly|mostly|especially|particularly)\s+)+",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Focus:
    """The question and the clarification answer that refines it (empty when there was none)."""

    question: str
    answer: str = ""

    @property
    def excluded(self) -> tuple[str, ...]:
        """Terms the answer asks to leave out ("not recycling", "skip policy")."""
        terms = [t for m in _NEGATION.finditer(self.answer) for t in tokenize(m.group("what"))]
        return tuple(dict.fromkeys(terms))

    def _positive_answer(self) -> str:
        return _NEGATION.sub(" ", self.answer)

    @property
    def scope(self) -> Scope:
        """Regions, period and audience the answer sets (filters and emphasis, not topics)."""
        return parse_scope(self._positive_answer())

    def aspects(self) -> tuple[str, ...]:
        """The sub-topics the answer names, in its order ("costs", "fire safety", ...), without their
        qualifiers ("... for a utility in the United States"), which still weigh in :meth:`weights`."""
        found: list[str] = []
        for part in _ASPECT_SPLIT.split(self.scope.rest):
            phrase = _ASPECT_LEAD.sub("", normalize_space(part))
            phrase = normalize_space(_ASPECT_TAIL.sub("", phrase)).strip(" .!?\"'“”")
            if content_terms(phrase) and phrase.lower() not in (f.lower() for f in found):
                found.append(phrase)
        return tuple(found)

    def weights(self) -> dict[str, float]:
        """The retrieval query: the answer's terms weigh twice the question's (the answer is more specific)."""
        excluded = set(self.excluded)
        weights = {t: 1.0 for t in tokenize(self.question) if t not in excluded}
        scope = self.scope
        for term in tokenize(scope.rest):
            if term not in excluded:
                weights[term] = 2.0
        # The scope is emphasis: the audience's and the regions' words weigh like the question's.
        emphasis = [scope.audience, *(" ".join(REGIONS[r][:2]) for r in scope.regions)]
        for term in tokenize(" ".join(emphasis)):
            if term not in excluded:
                weights[term] = max(weights.get(term, 0.0), 1.0)
        return weights

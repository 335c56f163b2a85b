"""The shape of a question, and the outline that answers it: a comparison gets comparing sections.

"How do grid-scale batteries compare with other ways of storing electricity?" is not answered by
sections on whatever the best documents happen to be about; it is answered dimension by dimension (cost,
duration, efficiency, ...), each section drawing on what the corpus says about both sides. The dimensions
are a fixed, explicit list; a dimension is used only when the corpus speaks to it together with the
subjects compared, in order of how much it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import content_terms, normalize_space

__all__ = ["ALTERNATIVES", "DIMENSIONS", "Comparison", "comparison_of", "report_title"]

# (dimension, the words that say a text is about it)
DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("Cost", "cost costs price prices capital levelized dollars cheaper expensive"),
    ("Duration and scale", "duration hours long-duration seasonal gigawatt-hours scale capacity"),
    ("Efficiency", "efficiency round-trip losses"),
    ("Lifetime and degradation", "lifetime life cycles degradation decades years"),
    ("Siting and build time", "site sites siting geography build construction permitting reservoirs"),
    ("Safety", "safety fire fires thermal runaway hazards"),
    ("Grid services", "frequency reserves inertia services ancillary"),
    ("Maturity and deployment", "installed deployed fleet gigawatts mature commercial"),
)

_PATTERNS = (
    re.compile(r"^how\s+(?:do|does|did|would|will)\s+(?P<a>.+?)\s+compare\s+(?:with|to|against)\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?:compare|comparing)\s+(?P<a>.+?)\s+(?:with|to|and|against|versus|vs\.?)\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?:what\s+(?:is|are)\s+)?the\s+differences?\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?:is|are|should)\s+(?P<a>.+?)\s+(?:better|cheaper|safer)\s+than\s+(?P<b>.+)$", re.I),
    re.compile(r"^(?P<a>.+?)\s+(?:versus|vs\.?)\s+(?P<b>.+?)(?:\s*:\s*which\b.*)?$", re.I),
)
# "other ways of storing electricity": a side named by what it is not; its words are the alternatives'.
_GENERIC = re.compile(r"^(?:the\s+)?(?:other|alternative)\b", re.I)
ALTERNATIVES = "pumped hydro flow compressed air hydrogen thermal long-duration"


@dataclass(frozen=True, slots=True)
class Comparison:
    a: str  # "grid-scale batteries"
    b: str  # "other ways of storing electricity"

    @property
    def terms(self) -> list[str]:
        """The words of both sides (a generic side stands for the usual alternatives)."""
        b = f"{self.b} {ALTERNATIVES}" if _GENERIC.match(self.b) else self.b
        return content_terms(f"{self.a} {b}")

    def section_title(self, dimension: str) -> str:
        if len(self.a.split()) + len(self.b.split()) <= 6:
            return f"{dimension}: {self.a} versus {self.b}"
        return f"{dimension}: how they compare"

    def description(self, dimension: str) -> str:
        return f"How {self.a} and {self.b} compare on {dimension.lower()}."


def comparison_of(question: str) -> Comparison | None:
    """The two sides of a comparison question, or None when the question compares nothing."""
    text = normalize_space(question).rstrip(" ?.!")
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match and content_terms(match.group("a")) and content_terms(match.group("b")):
            return Comparison(match.group("a").strip(), match.group("b").strip())
    return None


def report_title(question: str, scope: str = "") -> str:
    """The report's title: what was asked ("A compared with B"), and the scope it was narrowed to."""
    text = normalize_space(question).rstrip(" ?.!")
    comparison = comparison_of(text)
    if comparison is not None:
        text = f"{comparison.a} compared with {comparison.b}"
    title = (text[:1].upper() + text[1:]) if text else "Research report"
    return f"{title}: {scope}" if scope else title

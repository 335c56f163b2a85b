"""The scope an answer sets: regions, a period, an audience. Filters and emphasis, never section titles.

"Europe and North America, 2015 to 2025, for a utility planner" names no sub-topic at all: it narrows
what counts as evidence (documents about other regions only are left out, sentences whose years all fall
outside the period weigh less), says who reads the report (its terms weigh a little in retrieval), and
the report says what the corpus could not meet ("No document in the corpus covers Japan"). What is left
of the answer once the scope phrases are taken out is the topical part, which :class:`~._focus.Focus`
turns into aspects.

The gazetteer is small and explicit on purpose: a place the agent does not know is not guessed at, it
stays in the topical part of the answer, where it still weighs in retrieval.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["OTHER_NAMES", "REGIONS", "Scope", "join_names", "parse_scope", "regions_in", "years_in"]

# name -> the phrases that mark a text as being about it (case-insensitive, whole words); upper-case
# abbreviations are matched case-sensitively ("US", not "us").
REGIONS: dict[str, tuple[str, ...]] = {
    "Europe": (
        "Europe", "European", "EU", "Germany", "German", "United Kingdom", "UK", "Britain", "British",
        "France", "French", "Spain", "Italy", "Netherlands", "Belgium", "Ireland", "Nordic", "ENTSO-E",
    ),
    "North America": (
        "North America", "North American", "United States", "US", "U.S.", "American", "California",
        "Texas", "ERCOT", "CAISO", "PJM", "FERC", "Canada", "Canadian", "Mexico",
    ),
    "United States": (
        "United States", "US", "U.S.", "American", "California", "Texas", "ERCOT", "CAISO", "PJM", "FERC",
    ),
    "California": ("California", "CAISO"),
    "Texas": ("Texas", "ERCOT"),
    "Canada": ("Canada", "Canadian"),
    "Latin America": ("Latin America", "South America", "Chile", "Chilean", "Brazil", "Mexico"),
    "China": ("China", "Chinese"),
    "Japan": ("Japan", "Japanese"),
    "South Korea": ("South Korea", "Korea", "Korean"),
    "India": ("India", "Indian"),
    "Asia": ("Asia", "Asian", "China", "Chinese", "Japan", "Korea", "India"),
    "Australia": ("Australia", "Australian", "Hornsdale", "South Australia"),
    "Africa": ("Africa", "African"),
    "Middle East": ("Middle East", "Saudi", "Emirates", "UAE"),
}  # fmt: skip


# The same regions as an analyst may name them in other languages (the answer comes in the analyst's
# language, whatever the corpus's): matched in answers and in documents beside the English phrases. The
# English phrases come first in :data:`REGIONS`, for retrieval in an English corpus.
OTHER_NAMES: dict[str, tuple[str, ...]] = {
    "Europe": ("Europa", "européen", "europäisch", "europeo", "欧洲", "歐洲", "欧盟", "ヨーロッパ", "欧州", "유럽"),
    "North America": (
        "Amérique du Nord", "Nordamerika", "América del Norte", "Norteamérica", "北美", "北美洲", "北米", "북미",
    ),
    "United States": ("États-Unis", "Estados Unidos", "USA", "美国", "美國", "アメリカ", "미국"),
    "California": ("Kalifornien", "Californie", "加州", "加利福尼亚", "カリフォルニア"),
    "Texas": ("得州", "得克萨斯", "テキサス"),
    "Canada": ("Kanada", "加拿大", "カナダ", "캐나다"),
    "Latin America": (
        "Amérique latine", "Lateinamerika", "América Latina", "Sudamérica", "拉美", "拉丁美洲", "南美", "中南米",
    ),
    "China": ("Chine", "中国", "中國"),
    "Japan": ("Japon", "Japón", "日本"),
    "South Korea": ("Corée du Sud", "Südkorea", "Corea del Sur", "韩国", "韓国", "한국"),
    "India": ("Inde", "Indien", "印度", "インド"),
    "Asia": ("Asie", "Asien", "亚洲", "亞洲", "アジア", "아시아"),
    "Australia": ("Australie", "Australien", "澳大利亚", "澳洲", "オーストラリア", "호주"),
    "Africa": ("Afrique", "Afrika", "África", "非洲", "アフリカ", "아프리카"),
    "Middle East": ("Moyen-Orient", "Naher Osten", "Oriente Medio", "中东", "中東"),
}  # fmt: skip

# Chinese, Japanese and Korean text has no spaces between words: such phrases match anywhere.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    words = {p for p in phrases if not _CJK.search(p)}
    folded = sorted({p for p in words if not p.isupper()}, key=len, reverse=True)
    exact = sorted({p for p in words if p.isupper()}, key=len, reverse=True)
    cjk = sorted(set(phrases) - words, key=len, reverse=True)
    parts = [rf"(?i:{re.escape(p)})" for p in folded] + [re.escape(p) for p in exact]
    alternatives = [r"(?<![\w.-])(?:" + "|".join(parts) + r")(?![\w-])"] if parts else []
    alternatives += [re.escape(p) for p in cjk]
    return re.compile("|".join(alternatives))


_REGION_PATTERNS = {name: _pattern((*phrases, *OTHER_NAMES.get(name, ()))) for name, phrases in REGIONS.items()}
# What the user may type for a region: its name, its main adjective or abbreviation, its other names.
_ASKED = {name: _pattern((name, *phrases[:2], *OTHER_NAMES.get(name, ()))) for name, phrases in REGIONS.items()}
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_Y = r"(?:1[89]|20)\d\d"
_PERIOD = re.compile(
    rf"(?:\b(?:from|between|in|over|von|de|du|entre)\s+(?:the\s+years?\s+)?)?(?P<a>{_Y})\s*年?\s*"
    rf"(?:to|-|–|—|and|until|through|till|bis|à|au|a|al|到|至|~|～)\s*(?P<b>{_Y})年?"
    rf"|\b(?P<since>since|from|after|seit|depuis|dès|desde)\s+(?P<c>{_Y})|(?P<c2>{_Y})\s*年?\s*(?:以来|之后|以后|起)"
    rf"|\bin\s+(?P<d>{_Y})\b",
    re.IGNORECASE,
)
_ROLE = (
    r"planners?|investors?|regulators?|policy ?makers?|engineers?|executives?|developers?|analysts?|operators?|"
    r"managers?|boards?|teams?|students?|journalists?|consultants?|officials?|utilit(?:y|ies)|buyers?|lenders?|"
    r"councils?|ministr(?:y|ies)|newcomers?|beginners?|experts?|readers?|audiences?|customers?|staff|executive"
)
_AUDIENCE = re.compile(
    rf"\b(?:(?:written|aimed|meant|intended)\s+)?for\s+(?P<who>(?:(?:a|an|the|our|my)\s+)?(?:[\w-]+\s+){{0,3}}(?:{_ROLE}))\b"
    rf"|\b(?:audience|readers?)\s*(?:is|are|:)\s*(?P<who2>[^,.;]+)"
    r"|(?:面向|供)\s*(?P<who3>[^，,。;；、：:\s]+?)(?:参考|阅读)?(?=[，,。;；、：:\s]|$)",
    re.IGNORECASE,
)
# Words left dangling at the edges of a piece once a scope phrase is cut out ("recycling in [Japan]").
_DANGLING = re.compile(
    r"^(?:(?:and|or|plus|both|the|in|across|for|of|only|but|with|within|at|on|to|from|over|during)\b\s*)+|"
    r"(?:\s*\b(?:and|or|plus|both|the|in|across|for|of|only|but|with|within|at|on|to|from|over|during))+$|"
    r"^(?:(?:und|oder|et|ou|y|e|en|im|in der|dans|de|la)\b\s*)+|(?:\s*\b(?:und|oder|et|ou|y|e|en|im|dans|de|la))+$|"
    r"^(?:和|与|及|以及|或|在|的)+|(?:和|与|及|以及|或|的|在)+$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Scope:
    """What an answer narrows the research to; empty fields when it does not."""

    regions: tuple[str, ...] = ()  # canonical names from :data:`REGIONS`, in the answer's order
    period: tuple[int, int] | None = None  # inclusive years
    audience: str = ""  # "a utility planner"
    rest: str = ""  # the answer without its scope phrases: the topical part

    @property
    def empty(self) -> bool:
        return not (self.regions or self.period or self.audience)

    def describe(self) -> str:
        """ "Europe and North America, 2015 to 2025, for a utility planner"."""
        parts = []
        if self.regions:
            parts.append(join_names(self.regions))
        if self.period:
            a, b = self.period
            parts.append(str(a) if a == b else f"since {a}" if b == 9999 else f"{a} to {b}")
        if self.audience:
            parts.append(f"for {self.audience}")
        return ", ".join(parts)

    def region_factor(self, text: str) -> float:
        """How much a text (a document, a sentence) counts as evidence: 1.3 when it names a region asked
        for, 0.0 when it names only other regions, 1.0 when it names none (general evidence)."""
        if not self.regions:
            return 1.0
        found = regions_in(text)
        if found.intersection(self.regions):
            return 1.3
        return 0.0 if found - _containing(self.regions) else 1.0

    def period_factor(self, text: str) -> float:
        """0.4 for a sentence whose years all fall outside the period, else 1.0."""
        if self.period is None:
            return 1.0
        years = years_in(text)
        if not years:
            return 1.0
        a, b = self.period
        return 1.0 if any(a <= y <= b for y in years) else 0.4


def join_names(names: Iterable[str]) -> str:
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _containing(asked: Iterable[str]) -> set[str]:
    """Regions that overlap an asked one (asking for North America does not exclude California)."""
    overlapping: set[str] = set()
    for name in asked:
        phrases = set(REGIONS[name])
        overlapping.update(other for other, theirs in REGIONS.items() if phrases & set(theirs))
    return overlapping


@functools.lru_cache(maxsize=4096)
def regions_in(text: str) -> frozenset[str]:
    """The regions a text names (a document's text is hashed once by Python, so this is cheap to ask)."""
    return frozenset(name for name, pattern in _REGION_PATTERNS.items() if pattern.search(text))


def years_in(text: str) -> tuple[int, ...]:
    return tuple(int(y) for y in _YEAR.findall(text))


def parse_scope(answer: str) -> Scope:
    """Regions, period and audience of an answer; ``rest`` is what remains (see the module docstring)."""
    spans: list[tuple[int, int]] = []
    found: list[tuple[int, str]] = []
    for name, pattern in _ASKED.items():
        for match in pattern.finditer(answer):
            found.append((match.start(), name))
            spans.append(match.span())
    regions = tuple(dict.fromkeys(name for _, name in sorted(found)))
    # "North America" asked: "United States" found inside it is not a second region.
    regions = tuple(r for r in regions if not any(r != o and _inside(r, o, answer) for o in regions))
    period: tuple[int, int] | None = None
    when = _PERIOD.search(answer)
    if when:
        if when.group("a"):
            a, b = int(when.group("a")), int(when.group("b"))
            period = (min(a, b), max(a, b))
        elif when.group("c") or when.group("c2"):
            period = (int(when.group("c") or when.group("c2")), 9999)
        else:
            period = (int(when.group("d")), int(when.group("d")))
        spans.append(when.span())
    audience = ""
    who = _AUDIENCE.search(answer)
    if who:
        audience = " ".join((who.group("who") or who.group("who2") or who.group("who3") or "").split())
        spans.append(who.span())
    rest = _without(answer, spans)
    return Scope(regions, period, audience, rest)


def _inside(region: str, other: str, answer: str) -> bool:
    """Whether every mention of ``region`` in ``answer`` lies within a mention of ``other``."""
    inner = [m.span() for m in _ASKED[region].finditer(answer)]
    outer = [m.span() for m in _ASKED[other].finditer(answer)]
    return bool(inner) and all(any(o[0] <= i[0] and i[1] <= o[1] and o != i for o in outer) for i in inner)


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    keep = [True] * len(text)
    for start, end in spans:
        for i in range(start, end):
            keep[i] = False
    out = "".join(c if k else "," for c, k in zip(text, keep, strict=True))
    pieces = (_DANGLING.sub("", " ".join(p.split()).strip(" .;:!?。")) for p in re.split(r"[,;，；、：]", out))
    return ", ".join(p for p in pieces if p.strip(" .;:!?。"))

"""Deciding whether a question needs clarifying, and asking about what the corpus actually covers.

The rule is deterministic and cheap: a question is *broad* when it has fewer than
:data:`BROAD_TERM_LIMIT` distinct content words (after stopwords such as "what", "know", "about"), or
when fewer than :data:`MIN_MATCHING_DOCS` documents share any word with it. A broad question gets 2-3
numbered questions built from the corpus: the sub-topics its best documents fall into, the regions they
mention, and something that could be left out.
"""

from __future__ import annotations

import re

from ._focus import Focus
from ._index import CorpusIndex
from ._outline import group_hits
from ._text import content_terms

__all__ = ["BROAD_TERM_LIMIT", "MIN_MATCHING_DOCS", "clarification_questions", "is_broad"]

BROAD_TERM_LIMIT = 8
MIN_MATCHING_DOCS = 3

# Places an analyst commonly scopes a report by; only those the retrieved documents mention are offered.
_REGIONS = (
    "United States", "California", "Texas", "Europe", "European Union", "Germany", "United Kingdom",
    "China", "Japan", "South Korea", "India", "Australia", "Chile", "Canada", "Africa", "Latin America",
)  # fmt: skip


def is_broad(question: str, index: CorpusIndex) -> bool:
    """True when the question should be clarified before an outline is drafted (rule above)."""
    terms = content_terms(question)
    return len(terms) < BROAD_TERM_LIMIT or index.matching_documents(terms) < MIN_MATCHING_DOCS


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def clarification_questions(question: str, index: CorpusIndex) -> str:
    """A numbered list of 2-3 questions whose answers can steer retrieval (plain text, one per line)."""
    hits = index.search(Focus(question).weights(), 16)
    if len(hits) < 4:  # the question barely matches: offer what the corpus is about instead
        hits = index.search(Focus(" ".join(d.title for d in index.corpus.documents)).weights(), 16)
    groups = group_hits(index, hits, 6)
    aspects = [g[0].doc.title for g in groups]
    lines = []
    if aspects:
        lines.append(f"Which aspects should the report concentrate on: {_join(aspects[:4])}?")
    text = " ".join(" ".join(h.doc.sentences) for h in hits)
    regions = [r for r in _REGIONS if re.search(rf"\b{re.escape(r)}\b", text)]
    if regions:
        lines.append(f"Should it focus on one region ({_join(regions[:4])} appear in the sources) or stay global?")
    else:
        lines.append("Which region, market or time frame matters most to you?")
    if len(aspects) > 4:
        lines.append(f"Is there anything to leave out, for example {_join(aspects[4:])}?")
    else:
        lines.append("Who will read the report, and is there anything it should leave out?")
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1))

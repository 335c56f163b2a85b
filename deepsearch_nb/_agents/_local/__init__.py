"""The embedded offline research agent: openJiuwen's chunk protocol over a folder of local documents.

``LocalResearchAgent()`` researches the shipped demo corpus (grid-scale battery energy storage);
``DEMO_QUESTION`` and ``DEMO_ANSWERS`` script a full session with it: a clarification answer, one outline
revision and the acceptance, in the shorthand :meth:`deepsearch_nb._protocol.HitlAnswer.coerce` reads.
"""

from __future__ import annotations

from ._agent import LocalResearchAgent
from ._corpus import demo_corpus_path

__all__ = ["DEMO_ANSWERS", "DEMO_QUESTION", "LocalResearchAgent", "demo_corpus_path"]

DEMO_QUESTION = "What should a utility planner know about grid-scale battery storage?"

DEMO_ANSWERS: tuple[str, ...] = (
    "Focus on costs, fire safety and recycling for a utility in the United States.",
    "revise: add a section on supply chain risks",
    "accept",
)

"""Benchmark of the embedded local research agent: indexing a large corpus, and writing a full report.

* Indexing: a corpus of 10,000 Markdown documents (about 150 words each, words drawn with a fixed seed
  from the demo corpus's vocabulary) is generated in a temporary folder; the figure is the time to load
  and index it (constructing ``LocalResearchAgent``), file generation excluded.
* Report: the demo corpus, ``DEMO_QUESTION`` and ``DEMO_ANSWERS`` (clarification, one revision, accept),
  no pacing; the figure is the median of five sessions on one agent (construction excluded).

Peaks are ``tracemalloc`` peaks of a separate, traced repetition (Python and numpy allocations, which
numpy reports to tracemalloc), so tracing overhead does not distort the times.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .._agents._local import DEMO_ANSWERS, DEMO_QUESTION, LocalResearchAgent
from .._agents._local._corpus import load_corpus
from .._protocol import HitlAnswer

__all__ = ["LABELS", "run"]

LABELS = {
    "local_agent_index_docs": "documents in the generated corpus",
    "local_agent_index_s_10k": "load + index 10,000 generated documents (s)",
    "local_agent_index_peak_mb_10k": "peak memory while indexing them (MB, tracemalloc)",
    "local_agent_report_s": "full demo session to the final report, median of 5 (s)",
    "local_agent_report_chunks": "chunks streamed in that session",
    "local_agent_report_peak_mb": "peak memory during that session (MB, tracemalloc)",
}

_DOCS = 10_000
_SEED = 10_000
T = TypeVar("T")


def _write_corpus(root: Path, count: int) -> None:
    """Deterministic synthetic documents: same seed, same files, same index."""
    rng = random.Random(_SEED)
    vocabulary = sorted({w for d in load_corpus(None).documents for s in d.sentences for w in s.lower().split()})
    vocabulary = [w.strip(".,;:!?()'\"") for w in vocabulary if w.isascii()]
    vocabulary = [w for w in vocabulary if w.isalpha()]
    for i in range(count):
        title = " ".join(rng.choices(vocabulary, k=4)).capitalize()
        sentences = []
        for _ in range(10):
            words = rng.choices(vocabulary, k=rng.randint(10, 20))
            sentences.append(" ".join(words).capitalize() + ".")
        body = " ".join(sentences[:5]) + "\n\n" + " ".join(sentences[5:])
        (root / f"doc{i:05d}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")


def _traced_peak_mb(action: Callable[[], T]) -> tuple[T, float]:
    tracemalloc.start()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak / (1024 * 1024)


async def _session(agent: LocalResearchAgent, conversation_id: str) -> int:
    chunks = 0
    rounds = [("", DEMO_QUESTION)] + [(a.feedback.value, a.message) for a in map(HitlAnswer.coerce, DEMO_ANSWERS)]
    for feedback, message in rounds:
        async for _ in agent.run(message, conversation_id, interrupt_feedback=feedback):
            chunks += 1
    return chunks


def run() -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory(prefix="deepsearch_nb_bench_") as tmp:
        root = Path(tmp)
        _write_corpus(root, _DOCS)
        start = time.perf_counter()
        agent = LocalResearchAgent(root)
        index_s = time.perf_counter() - start
        docs = len(agent.corpus)
        del agent
        _, index_peak = _traced_peak_mb(lambda: LocalResearchAgent(root))

    demo = LocalResearchAgent()
    times = []
    chunks = 0
    for i in range(5):
        start = time.perf_counter()
        chunks = asyncio.run(_session(demo, f"bench_{i}"))
        times.append(time.perf_counter() - start)
    _, report_peak = _traced_peak_mb(lambda: asyncio.run(_session(LocalResearchAgent(), "bench_traced")))
    return {
        "local_agent_index_docs": docs,
        "local_agent_index_s_10k": round(index_s, 3),
        "local_agent_index_peak_mb_10k": round(index_peak, 1),
        "local_agent_report_s": round(statistics.median(times), 4),
        "local_agent_report_chunks": chunks,
        "local_agent_report_peak_mb": round(report_peak, 2),
    }

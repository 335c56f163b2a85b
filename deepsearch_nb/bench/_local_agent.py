"""Benchmark of the embedded local research agent: indexing a large corpus, and writing a full report.

* Indexing: a corpus of 10,000 Markdown documents (about 150 words each, words drawn with a fixed seed
  from the demo corpus's vocabulary) is generated in a temporary folder; the figure is the time to load
  and index it (constructing ``LocalResearchAgent``), file generation excluded.
* Report: the demo corpus, ``DEMO_QUESTION`` and ``DEMO_ANSWERS`` (clarification, one revision, accept),
  no pacing; the figure is the median of five sessions on one agent (construction excluded).

Peaks are ``tracemalloc`` peaks of a separate, traced repetition (Python and numpy allocations, which
numpy reports to tracemalloc), so tracing overhead does not distort the times. The 10,000-document figures
are measured with the index cache off (they time a build).

* At scale: 100,000 generated documents (same generator). Each figure comes from a fresh Python process
  (``python -c``, the cache folder a temporary one), as a kernel restart would, timed from after the
  imports: ``local_agent_index_s_100k`` the first construction (read, index, fingerprint, save the index),
  ``local_agent_reindex_s_100k`` the second on the unchanged folder (loads the saved index). Peak MB is
  the process's peak resident memory (``ru_maxrss``: interpreter, imports, numpy and bm25s included).
  Wall-clock seconds grow with the machine's load, so each also has its process CPU time (``*_cpu_s_*``)
  and the load average is printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
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
    "local_agent_docs_100k": "documents in the large generated corpus",
    "local_agent_index_s_100k": "first agent on them: read + index + fingerprint + save (s; target <= 30)",
    "local_agent_index_cpu_s_100k": "its process CPU time (s)",
    "local_agent_index_peak_mb_100k": "its peak resident memory (MB; target <= 1,000)",
    "local_agent_reindex_s_100k": "second agent, unchanged folder: the saved index loaded (s; target <= 2)",
    "local_agent_reindex_cpu_s_100k": "its process CPU time (s)",
    "local_agent_reindex_peak_mb_100k": "its peak resident memory (MB)",
    "local_agent_cache_mb_100k": "size of the saved index on disk (MB)",
    "local_agent_load_avg_1m": "the machine's load average at the end",
}

_LARGE = 100_000
_CHILD = """
import json, resource, sys, time
from deepsearch_nb import LocalResearchAgent
import bm25s  # imports are the interpreter's start, not the index's work
start, cpu = time.perf_counter(), time.process_time()
agent = LocalResearchAgent(sys.argv[1])
print(json.dumps({"s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "docs": len(agent.corpus)}))
"""

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


def _in_child(root: Path, cache: Path) -> dict[str, float]:
    env = {**os.environ, "DEEPSEARCH_NB_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root)], env=env, capture_output=True, text=True, check=True, timeout=1800
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _at_scale(docs: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory(prefix="deepsearch_nb_bench_large_") as tmp:
        root, cache = Path(tmp) / "corpus", Path(tmp) / "cache"
        root.mkdir()
        _write_corpus(root, docs)
        first = _in_child(root, cache)
        second = _in_child(root, cache)
        on_disk = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file())
    if first["docs"] != docs or second["docs"] != docs:
        raise RuntimeError(f"indexed {first['docs']} then {second['docs']} of {docs} documents")
    return {
        "local_agent_docs_100k": docs,
        "local_agent_index_s_100k": round(first["s"], 3),
        "local_agent_index_cpu_s_100k": round(first["cpu_s"], 3),
        "local_agent_index_peak_mb_100k": round(first["peak_mb"]),
        "local_agent_reindex_s_100k": round(second["s"], 3),
        "local_agent_reindex_cpu_s_100k": round(second["cpu_s"], 3),
        "local_agent_reindex_peak_mb_100k": round(second["peak_mb"]),
        "local_agent_cache_mb_100k": round(on_disk / 2**20, 1),
        "local_agent_load_avg_1m": round(os.getloadavg()[0], 2),
    }


def run(large: int = _LARGE) -> dict[str, float | int | str]:
    previous = os.environ.get("DEEPSEARCH_NB_CACHE_DIR")
    os.environ["DEEPSEARCH_NB_CACHE_DIR"] = "off"  # the 10,000-document figures time a build
    try:
        figures = _small()
    finally:
        if previous is None:
            del os.environ["DEEPSEARCH_NB_CACHE_DIR"]
        else:
            os.environ["DEEPSEARCH_NB_CACHE_DIR"] = previous
    return {**figures, **_at_scale(large)}


def _small() -> dict[str, float | int | str]:
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

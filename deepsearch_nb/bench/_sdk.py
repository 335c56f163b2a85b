"""What the run manager costs on the real openJiuwen SDK, and how fast a cancel stops it (needs the ``sdk`` extra).

Both sides run the same full human-in-the-loop research (clarification, accepted outline, sections,
report) against :class:`deepsearch_nb.testing.StubLLM` on 127.0.0.1 and the shipped corpus, in the same
process, alternately: once with ``DeepresearchAgent.run`` iterated directly, round by round, and once
through ``OpenJiuwenAgent`` and a ``RunManager`` with scripted answers. Their ratio of medians is
``sdk_overhead_ratio`` (target <= 1.05). Then ``CANCELS`` runs are cancelled while the SDK streams its
final round; ``sdk_cancel_ms_p99`` is the time from ``run.cancel()`` to the run being CANCELLED with its
session released (target <= 50 ms). Everything runs inside ``loopback_only()``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import tempfile
import time
from typing import Any

__all__ = ["LABELS", "run"]

REPEATS = 8
CANCELS = 24
QUESTION = "What should a utility planner know about grid-scale battery storage?"
ANSWERS = ("Focus on costs.", "accept")
KEY_ENV = "DEEPSEARCH_NB_BENCH_LLM_KEY"

LABELS = {
    "sdk_round_s": "full HITL research through the RunManager (s, median)",
    "sdk_direct_round_s": "the same research, the SDK iterated directly (s, median)",
    "sdk_overhead_ratio": "managed / direct (target <= 1.05)",
    "sdk_cancel_ms_p50": "cancel in the final round to CANCELLED and released (ms, p50)",
    "sdk_cancel_ms_p99": "the same (ms, p99; target <= 50)",
    "sdk_cancels": "cancels measured",
    "sdk_llm_requests": "LLM requests per research",
}


def _agent(llm: Any) -> Any:
    from .._agents._local import demo_corpus_path
    from .._agents._sdk import OpenJiuwenAgent

    return OpenJiuwenAgent(base_url=llm.base_url, model=llm.model, api_key_env=KEY_ENV, corpus=demo_corpus_path())


async def _direct(agent: Any, conversation_id: str) -> float:
    """The SDK's own generator, round by round, with fresh configs: what a caller without us would do."""
    sdk = await agent.load()
    await sdk.bind_loop()
    inner = agent._agent_for(agent.config_for_round())
    start = time.perf_counter()
    rounds = [(QUESTION, ""), (ANSWERS[0], "accepted"), ("", "accepted")]
    for message, feedback in rounds:
        async for _ in inner.run(message, conversation_id, agent.config_for_round(), "", feedback):
            pass
    return time.perf_counter() - start


async def _managed(agent: Any, conversation_id: str) -> float:
    from ..runtime import RunManager, RunState

    manager = RunManager()
    start = time.perf_counter()
    run = manager.start(agent, QUESTION, conversation_id=conversation_id)
    for answer in ANSWERS:
        if await run.until_settled(120) is not RunState.WAITING_USER_INPUT:
            raise RuntimeError(f"the research did not pause: {run.state} {run.error}")
        run.submit(answer)
    await run.wait(120)
    elapsed = time.perf_counter() - start
    if run.state is not RunState.COMPLETED:
        raise RuntimeError(f"benchmark run ended {run.state}: {run.error}")
    await manager.drain(30)
    return elapsed


async def _cancel_once(agent: Any, conversation_id: str, nth: int) -> float:
    from ..runtime import ChunkReceived, RunEvent, RunManager, RunState

    manager = RunManager()
    run = manager.start(agent, QUESTION, conversation_id=conversation_id)
    for answer in ANSWERS:
        await run.until_settled(120)
        run.submit(answer)
    cancelled = asyncio.Event()
    started: list[float] = []
    seen = 0

    def on_event(event: RunEvent) -> None:
        nonlocal seen
        if isinstance(event, ChunkReceived) and not started:
            seen += 1
            if seen >= nth:
                started.append(time.perf_counter())
                run.cancel()
        if run.state is RunState.CANCELLED:
            cancelled.set()

    run.subscribe(on_event)
    await run.wait(60)
    await manager.drain(30)  # the session cleanup is part of the cancel
    if not started or run.state is not RunState.CANCELLED:
        raise RuntimeError(f"the cancel did not land: {run.state} after {seen} chunks")
    elapsed = time.perf_counter() - started[0]
    if agent.sdk_sessions(conversation_id):
        raise RuntimeError(f"stores left after a cancel: {agent.sdk_sessions(conversation_id)}")
    return elapsed


async def _measure() -> dict[str, Any]:
    from ..testing import StubLLM, loopback_only

    with loopback_only(), StubLLM() as llm:
        agent = _agent(llm)
        await _direct(agent, "bench_warm_direct")  # imports, corpus index, client pools: not measured
        await _managed(agent, "bench_warm_managed")
        direct: list[float] = []
        managed: list[float] = []
        requests_before = len(llm.requests)
        for i in range(REPEATS):  # alternately, so that drift (caches, GC, CPU clock) hits both sides alike
            gc.collect()
            if i % 2:
                managed.append(await _managed(agent, f"bench_managed_{i}"))
                direct.append(await _direct(agent, f"bench_direct_{i}"))
            else:
                direct.append(await _direct(agent, f"bench_direct_{i}"))
                managed.append(await _managed(agent, f"bench_managed_{i}"))
        per_research = (len(llm.requests) - requests_before) // (2 * REPEATS)
        cancels = []
        for i in range(CANCELS):  # at varying points of the final round: planning, collecting, writing
            gc.collect()
            cancels.append(await _cancel_once(agent, f"bench_cancel_{i}", 3 + 7 * i % 40))
    cancel_ms = sorted(c * 1000 for c in cancels)
    p99 = cancel_ms[min(len(cancel_ms) - 1, round(0.99 * (len(cancel_ms) - 1)))]
    return {
        "sdk_round_s": round(statistics.median(managed), 3),
        "sdk_direct_round_s": round(statistics.median(direct), 3),
        "sdk_overhead_ratio": round(statistics.median(managed) / statistics.median(direct), 3),
        "sdk_cancel_ms_p50": round(statistics.median(cancel_ms), 1),
        "sdk_cancel_ms_p99": round(p99, 1),
        "sdk_cancels": len(cancel_ms),
        "sdk_llm_requests": per_research,
    }


def run() -> dict[str, Any]:
    os.environ.setdefault(KEY_ENV, "bench-key-not-secret")
    os.environ.setdefault("DEEPSEARCH_NB_SDK_LOG_DIR", tempfile.mkdtemp(prefix="deepsearch-nb-bench-sdk-logs-"))
    return asyncio.run(_measure())

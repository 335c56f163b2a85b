"""Faults, secrets and floods (issue 9): how the runtime holds up against agents that misbehave.

* **faults**: a fixed, seeded set of cases (faults at chunk indices: raise, an unprintable exception,
  KeyboardInterrupt, hang, ignore the cancel, garbage chunks; endings: report, question, none; a cancel at
  a chunk or an answer), plus hand-written agents whose endings never end and a cancel after the run's
  loop has closed. A case *survives* when its run ends (a cancel at the end for what is still live) with
  the manager idle, no task left, and every chunk the agent delivered before the cancel kept or counted.
* **secrets**: a random made-up key in ``agent_config`` and another in the agent's ``secret_values()``;
  the agent echoes both in chunks, in its report, in an error chunk and in an exception. Every artifact a
  user can see or save is searched: errors, reprs, notices, the report document, each MIME entry, the
  saved ``.md`` and ``.json``, the runtime's log at DEBUG.
* **flood**: 1,000,000 chunks of :func:`~deepsearch_nb.testing.many_chunks` through a manager (a
  1,000-chunk block replayed, so that the benchmark's own script does not weigh on memory and the
  garbage collector): the RSS the finished run holds, per 100,000 chunks, and how late a 10 ms timer
  fires on the loop meanwhile (p99). Timer lateness includes the machine's other load.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import gc
import io
import logging
import os
import random
import resource
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from .._report import Report
from ..runtime import Run, RunManager, RunState
from ..testing import (
    Hang,
    HangingCloseStream,
    IgnoreCancel,
    Raise,
    ScriptedAgent,
    UnprintableError,
    all_end,
    chunk,
    clarification,
    final_result,
    many_chunks,
    report_round,
)

__all__ = ["LABELS", "run"]

LABELS = {
    "fault_cases": "fault cases run",
    "fault_survived": "cases that ended clean",
    "fault_chunks_lost": "chunks delivered but neither kept nor counted",
    "fault_leaks": "cases that left bookkeeping or a task behind",
    "fault_hangs": "cases that did not end in time",
    "secret_artifacts_searched": "artifacts searched for the keys",
    "secret_hits": "artifacts holding a key",
    "flood_chunks": "chunks in the flood",
    "flood_s": "flood duration (s)",
    "flood_rss_mb_per_100k_chunks": "RSS the finished run holds per 100k chunks (MB, target <= 20)",
    "flood_loop_lag_ms_p99": "10 ms timer lateness during the flood, p99 (ms, target <= 50)",
}

SEED = 9
RANDOM_CASES = 48
HISTORY = 16
CASE_S = 10.0
SETTLE_S = 0.3  # how long a case lets its run go before it steers (the scripts are short)
FLOOD = 1_000_000
_FAULTS = ("raise", "unprintable", "keyboard", "hang", "ignore_cancel", "garbage")
_GARBAGE: tuple[Any, ...] = (b"\xff\x00", "{not json", 42, None, [1, 2], {"agent": 5}, "x" * 100_000, "")


class _Handwritten:
    """An agent whose ``run`` returns ``make()``: a stream written by hand, not a ScriptedAgent."""

    kind = "handwritten"

    def __init__(self, make: Callable[[], Any], delivered: int = 0) -> None:
        self.make = make
        self.count = delivered
        self.delivered: collections.Counter[str] = collections.Counter()

    def run(self, message: str, conversation_id: str, *_rest: Any, **_options: Any) -> Any:
        self.delivered[conversation_id] += self.count
        return self.make()


_REPORT = report_round(["Storage got cheaper."])


async def _finally_hangs() -> AsyncIterator[Any]:
    try:
        for item in _REPORT:
            yield item
    finally:
        await asyncio.Event().wait()


async def _finally_raises() -> AsyncIterator[Any]:
    try:
        for item in _REPORT:
            yield item
    finally:
        raise RuntimeError("finally broke")


# --- faults ----------------------------------------------------------------------------------------


def _manager() -> RunManager:
    return RunManager(cancel_grace_s=0.1, end_grace_s=0.2, close_grace_s=0.2, stall_after_s=0.05, history_limit=HISTORY)


def _script(rng: random.Random, release: asyncio.Event) -> list[Any]:
    body: list[Any] = [chunk("sub_reporter", "message", f"t{i} ", section_idx="1") for i in range(rng.randint(0, 30))]
    for _ in range(rng.randint(0, 2)):
        kind = rng.choice(_FAULTS)
        step: Any = {
            "raise": Raise(RuntimeError("fault")),
            "unprintable": Raise(UnprintableError()),
            "keyboard": Raise(KeyboardInterrupt()),
            "hang": Hang(),
            "ignore_cancel": IgnoreCancel(release, max_s=0.3),
        }.get(kind, rng.choice(_GARBAGE))
        body.insert(rng.randint(0, len(body)), step)
    ending = rng.choice(("report", "question", "none"))
    if ending == "report":
        return [*body, final_result("# R\n\ndone"), all_end()]
    return [*body, *clarification()] if ending == "question" else body


def _lost(run: Run, delivered: int) -> int:
    own = 1 if run.state is RunState.CANCELLED else 0  # the runtime's own cancel chunk
    return abs(run.chunk_total - own + run.progress.malformed - delivered)


async def _finish(manager: RunManager, runs: Sequence[tuple[Run, Any]]) -> tuple[int, bool]:
    """Cancel what is live, wait; returns (chunks lost, leaked)."""
    for run, _ in runs:
        if not run.state.terminal:
            run.cancel("the case ended")
    for run, _ in runs:
        await run.wait(CASE_S)
    await manager.drain(CASE_S)
    end = time.monotonic() + CASE_S
    while not manager.stats().is_idle and time.monotonic() < end:  # noqa: ASYNC110 (polled figures)
        await asyncio.sleep(0.01)  # an abandoned agent finishing alone
    left = [t for t in asyncio.all_tasks() if not t.get_name().startswith("bench")]
    lost = sum(_lost(run, agent.delivered[run.conversation_id]) for run, agent in runs)
    return lost, bool(left) or not manager.stats().is_idle


async def _random_case(rng: random.Random) -> tuple[int, bool]:
    manager = _manager()
    release = asyncio.Event()
    agent = ScriptedAgent(_script(rng, release), _script(rng, release))
    run = manager.start(agent, "Fault question?", conversation_id="case")
    cancel_at = rng.choice((None, rng.randint(0, 30)))
    if cancel_at is not None:

        def cancel_there(_event: object) -> None:  # a click on Cancel at that chunk, on the run's loop
            if run.chunk_total >= cancel_at and not run.state.terminal:
                run.cancel()

        run.subscribe(cancel_there)
    with contextlib.suppress(TimeoutError):  # a hung agent is left to the final cancel
        await run.until_settled(SETTLE_S)
    if run.state is RunState.WAITING_USER_INPUT:
        run.submit(rng.choice(("Europe", "cancel")))
        with contextlib.suppress(TimeoutError):
            await run.until_settled(SETTLE_S)
    return await _finish(manager, [(run, agent)])


async def _handwritten_case(make: Callable[[], Any]) -> tuple[int, bool]:
    manager = _manager()
    agent = _Handwritten(make, len(_REPORT))
    run = manager.start(agent, "Fault question?", conversation_id="case")
    await run.wait(CASE_S)
    lost, leaked = await _finish(manager, [(run, agent)])
    return lost, leaked or run.state is not RunState.COMPLETED


def _orphan_case() -> tuple[int, bool]:
    """A run paused inside ``asyncio.run`` and cancelled after that loop closed (its own thread)."""
    manager = _manager()
    agent = ScriptedAgent(clarification(), _REPORT)

    async def main() -> Run:
        run = manager.start(agent, "Fault question?", conversation_id="case")
        await run.until_settled(CASE_S)
        return run

    run = asyncio.run(main())
    run.cancel()
    return _lost(run, agent.delivered["case"]), not manager.stats().is_idle or not run.state.terminal


async def _faults() -> dict[str, int]:
    rng = random.Random(SEED)
    cases: list[Callable[[], Any]] = [lambda: _random_case(rng) for _ in range(RANDOM_CASES)]
    makers: tuple[Callable[[], Any], ...] = (
        _finally_hangs,
        _finally_raises,
        functools.partial(HangingCloseStream, _REPORT),
    )
    cases += [functools.partial(_handwritten_case, make) for make in makers]
    cases.append(lambda: asyncio.to_thread(_orphan_case))
    survived = lost_total = leaks = hangs = 0
    for make in cases:
        task = asyncio.create_task(make(), name="bench-case")
        try:
            lost, leaked = await asyncio.wait_for(task, 3 * CASE_S)
        except TimeoutError:
            hangs += 1
            continue
        lost_total += lost
        leaks += leaked
        survived += not lost and not leaked
    return {
        "fault_cases": len(cases),
        "fault_survived": survived,
        "fault_chunks_lost": lost_total,
        "fault_leaks": leaks,
        "fault_hangs": hangs,
    }


# --- secrets ---------------------------------------------------------------------------------------


class _Leaky(ScriptedAgent):
    """Holds a key of its own and echoes every key it knows in chunks, its report and its errors."""

    def __init__(self, own_key: str, config_key: str, *, fail: bool) -> None:
        keys = f"{config_key} {own_key}"
        text = f"the keys are {keys}"
        rounds: list[Any] = [
            chunk("sub_reporter", "message", text, section_idx="1"),
            chunk("framework", "error", f'{{"exception_info": "401 unauthorized: {keys}"}}'),
        ]
        if fail:
            rounds.append(Raise(RuntimeError(f"HTTP 401 for api_key={config_key} and {own_key}")))
        else:
            rounds += [final_result(f"# Report\n\n{text}"), all_end()]
        super().__init__(rounds)
        self._own_key = own_key

    def secret_values(self) -> list[str]:
        return [self._own_key]


async def _secrets() -> dict[str, int]:
    config_key = "sk-test-" + secrets.token_hex(16)
    own_key = "sk-test-" + secrets.token_hex(16)
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logger = logging.getLogger("deepsearch_nb")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    artifacts: list[str] = []
    try:
        for fail in (False, True):
            manager = RunManager(cancel_grace_s=0.2)
            agent = _Leaky(own_key, config_key, fail=fail)
            run = manager.start(agent, "What do keys do?", agent_config={"llm_config": {"api_key": config_key}})
            await run.wait(CASE_S)
            await manager.drain(CASE_S)
            report = Report.from_run(run)
            artifacts += [run.error or "", repr(run), repr(report), report.to_json(), report.to_markdown()]
            artifacts += [n.message for n in run.notices] + [run.cancel_reason or ""]
            artifacts += [str(value) for value in report._repr_mimebundle_().values()]
            with tempfile.TemporaryDirectory() as folder:
                for name in ("report.md", "report.json"):
                    artifacts.append(report.save(Path(folder) / name).read_text(encoding="utf-8"))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    artifacts.append(log.getvalue())
    hits = sum(1 for text in artifacts if config_key in text or own_key in text)
    return {"secret_artifacts_searched": len(artifacts), "secret_hits": hits}


# --- flood -----------------------------------------------------------------------------------------


async def _flood_stream(count: int) -> AsyncIterator[str]:
    block = many_chunks(1000, size=50)
    body, tail = block[:-2], block[-2:]
    for _ in range(count // len(body)):
        for item in body:
            yield item
    for item in tail:
        yield item


def _rss() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # not Linux: the peak is the best there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def _flood() -> dict[str, float | int]:
    agent = _Handwritten(lambda: _flood_stream(FLOOD))
    manager = RunManager()
    gc.collect()
    before = _rss()
    lags: list[float] = []
    done = threading.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            start = loop.time()
            await asyncio.sleep(0.01)
            lags.append((loop.time() - start - 0.01) * 1000)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    lags.clear()
    started = time.perf_counter()
    run = manager.start(agent, "Flood?", conversation_id="flood")
    await run
    elapsed = time.perf_counter() - started
    done.set()
    await tick
    await manager.drain(CASE_S)
    if run.state is not RunState.COMPLETED or run.chunk_total != FLOOD + 2:
        raise RuntimeError(f"the flood ended {run.state.value} with {run.chunk_total} chunks: {run.error}")
    gc.collect()
    held = _rss() - before
    lags.sort()
    return {
        "flood_chunks": run.chunk_total,
        "flood_s": round(elapsed, 2),
        "flood_rss_mb_per_100k_chunks": round(max(held, 0) / 2**20 / (FLOOD / 100_000), 2),
        "flood_loop_lag_ms_p99": round(lags[int(len(lags) * 0.99)] if lags else 0.0, 1),
    }


async def _main() -> dict[str, Any]:
    asyncio.current_task().set_name("bench")  # type: ignore[union-attr]
    return {**await _faults(), **await _secrets(), **await _flood()}


def run() -> dict[str, Any]:
    return asyncio.run(_main())

"""Fault injection (issue 9): random faults, random chunk garbage and random steering from several threads.

Every case runs a fresh :class:`RunManager` on an event loop in its own thread (as a kernel's loop is to a
widget click on a subshell thread) and ends the same way: whatever is still live is cancelled, as a
person would, and then the manager must be idle (``stats().is_idle``), no asyncio task may be left on the
loop, and nothing the agent delivered may be lost: every chunk the agent yielded before the run's cancel
is in the run's history or counted (``chunk_total`` plus the malformed count, within ``history_limit``).
Every wait is bounded, so a hang fails its case instead of the whole suite.

Bounded and deterministic in CI: modest ``max_examples``, a per-example deadline, ``derandomize`` under
``CI=true``, no example database written to the tree.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import random
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsearch_nb import InvalidInputError, RunState, RunStateError
from deepsearch_nb.agents import Chunk, parse_chunk
from deepsearch_nb.runtime import Run, RunManager, RunNotFound
from deepsearch_nb.testing import (
    Hang,
    IgnoreCancel,
    Pause,
    Raise,
    ScriptedAgent,
    UnprintableError,
    all_end,
    chunk,
    clarification,
    final_result,
)

_T = TypeVar("_T")

settings.register_profile(
    "faults",
    max_examples=60,
    deadline=timedelta(seconds=10),
    database=None,
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FAULTS = settings.get_profile("faults")

HISTORY = 16  # small, so that most cases drop older chunks and the count must still add up
STEP_S = 5.0  # the bound on any one wait of a case (a hang fails the case)
SETTLE_S = 0.3  # how long a case lets its run go before it steers (the scripts are short)


def _surrogates_repaired() -> bool:
    """Finding 4 (lone surrogates) is another engineer's fix in ``parse_chunk``: is it in this tree?"""
    parsed = parse_chunk({**chunk("sub_reporter", "message", "\ud800"), "extra": "\udfff"})
    try:
        (parsed.to_wire() if isinstance(parsed, Chunk) else str(parsed.raw)).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return False
    return True


SURROGATES_FIXED = _surrogates_repaired()


# --- the agent: a ScriptedAgent that counts what it delivered before its run was cancelled ----------


# --- strategies ----------------------------------------------------------------------------------

HUGE = "x" * 1_000_000
_garbage_base = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=40).filter(lambda s: not s.strip().startswith("{")),
    st.sampled_from(["", "{", "[1, 2]", "null", "{not json}", '{"agent": 5}', "\x00\x01", HUGE]),
    st.integers(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.builds(
        lambda field_name, value: {**chunk("sub_reporter", "message", "x"), field_name: value},
        st.sampled_from(["agent", "event", "content", "message_type", "section_idx", "created_time"]),
        st.one_of(st.integers(), st.none(), st.lists(st.integers(), max_size=2), st.just({"a": 1})),
    ),
    st.just({**chunk("sub_reporter", "message", HUGE)}),
)
_surrogate_garbage = st.sampled_from(
    [
        chunk("sub_reporter", "message", "lone \ud800 high"),
        json.dumps(chunk("sub_reporter", "message", "x")).replace('"x"', '"\\ud800"'),
        {**chunk("sub_reporter", "message", "x"), "extra": ["\udfff"]},
    ]
)
garbage = st.one_of(_garbage_base, _surrogate_garbage) if SURROGATES_FIXED else _garbage_base


@dataclass(frozen=True)
class Fault:
    kind: str  # raise / unprintable / keyboard / hang / ignore_cancel / pause / garbage
    at: int  # the chunk index before which it happens
    item: Any = None


faults = st.builds(
    Fault,
    st.sampled_from(["raise", "unprintable", "keyboard", "hang", "ignore_cancel", "pause", "garbage"]),
    st.integers(min_value=0, max_value=30),
    garbage,
)


def _step(fault: Fault, release: asyncio.Event | None) -> Any:
    if fault.kind == "raise":
        return Raise(RuntimeError(f"fault at {fault.at}"))
    if fault.kind == "unprintable":
        return Raise(UnprintableError())
    if fault.kind == "keyboard":
        return Raise(KeyboardInterrupt())
    if fault.kind == "hang":
        return Hang()
    if fault.kind == "ignore_cancel":
        assert release is not None
        return IgnoreCancel(release, max_s=0.4)
    if fault.kind == "pause":
        return Pause(0.005)
    return fault.item


def script(tokens: int, ending: str, fault_list: Sequence[Fault], release: asyncio.Event | None) -> list[Any]:
    """A round of ``tokens`` valid chunks with the faults at their indices, then its ending.

    A fault whose index is past the last token comes after the ending chunk (a ``finally`` that raises,
    hangs or ignores the cancel after ALL END or after the question).
    """
    body: list[Any] = [chunk("sub_reporter", "message", f"t{i} ", section_idx="1") for i in range(tokens)]
    tail = [_step(f, release) for f in fault_list if f.at > tokens]
    for fault in sorted((f for f in fault_list if f.at <= tokens), key=lambda f: f.at, reverse=True):
        body.insert(fault.at, _step(fault, release))
    if ending == "report":
        return [*body, final_result("# R\n\ndone"), all_end(), *tail]
    if ending == "question":
        return [*body, *clarification(), *tail]
    return [*body, *tail]  # the stream just stops (no ALL END, no question)


# --- the harness ---------------------------------------------------------------------------------


@dataclass
class Case:
    """A manager on a loop in its own thread, and every run and agent the case made."""

    manager: RunManager = field(
        default_factory=lambda: RunManager(
            cancel_grace_s=0.1, end_grace_s=0.2, close_grace_s=0.2, stall_after_s=0.05, history_limit=HISTORY
        )
    )
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    runs: list[tuple[Run, ScriptedAgent]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.loop.run_forever, name="fault-case loop", daemon=True)
        self.thread.start()

    def call(self, make: Callable[[], Coroutine[Any, Any, _T]], timeout: float = STEP_S) -> _T:
        future = asyncio.run_coroutine_threadsafe(make(), self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise AssertionError(f"hang: a call on the run's loop took more than {timeout} s") from None

    def start(self, agent: ScriptedAgent, conversation_id: str) -> Run | None:
        async def start() -> Run:
            return self.manager.start(agent, "Fault question?", conversation_id=conversation_id)

        try:
            run = self.call(start)
        except RunStateError:
            return None  # a live run holds the key: the router refuses a second one
        with self.lock:
            self.runs.append((run, agent))
        return run

    def finish(self) -> None:
        """Cancel what is live, wait for the ends, and check the case left nothing behind."""
        try:
            for run, _ in list(self.runs):
                if not run.state.terminal:
                    run.cancel("the fault case ended")
            deadline = time.monotonic() + STEP_S
            for run, _ in self.runs:
                while not run.state.terminal:
                    assert time.monotonic() < deadline, f"hang: {run!r} did not end after its cancel"
                    time.sleep(0.005)

            async def settle() -> tuple[Any, list[asyncio.Task[Any]]]:
                await self.manager.drain(STEP_S)
                end = time.monotonic() + STEP_S
                while not self.manager.stats().is_idle and time.monotonic() < end:  # noqa: ASYNC110 (polled figures)
                    await asyncio.sleep(0.01)  # an abandoned agent finishing alone (IgnoreCancel's max_s)
                current = asyncio.current_task()
                return self.manager.stats(), [t for t in asyncio.all_tasks() if t is not current]

            stats, left = self.call(settle, timeout=3 * STEP_S)
            assert stats.is_idle, f"the manager leaked: {stats}"
            assert not left, f"tasks left on the loop: {left}"
            for run, agent in self.runs:
                check_nothing_lost(run, agent)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(STEP_S)
            assert not self.thread.is_alive(), "hang: the loop did not stop"
            self.loop.close()


def check_nothing_lost(run: Run, agent: ScriptedAgent) -> None:
    own = 1 if run.state is RunState.CANCELLED else 0  # the runtime's own cancel chunk
    received = run.chunk_total - own + run.progress.malformed
    assert received == agent.delivered[run.conversation_id], (
        f"{run!r}: the agent delivered {agent.delivered[run.conversation_id]} items before the end, "
        f"the run kept or counted {received} ({run.chunk_total} chunks, {run.progress.malformed} malformed)"
    )
    assert len(run.chunks) <= HISTORY
    assert run.state.terminal


# --- the cases -----------------------------------------------------------------------------------


@settings(FAULTS, max_examples=100)
@given(
    tokens=st.integers(min_value=0, max_value=40),
    ending=st.sampled_from(["report", "question", "none"]),
    fault_list=st.lists(faults, max_size=3),
    cancel_at=st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    answer=st.sampled_from(["Europe", "cancel", ""]),
)
def test_one_run_with_random_faults_ends_clean(
    tokens: int, ending: str, fault_list: list[Fault], cancel_at: int | None, answer: str
) -> None:
    """One run, faults at random chunk indices, a cancel at a random chunk and a random answer."""
    case = Case()
    release = asyncio.Event()  # never set: IgnoreCancel gives up after its max_s
    agent = ScriptedAgent(script(tokens, ending, fault_list, release), script(3, "report", [], None))
    try:
        run = case.start(agent, "one")
        assert run is not None
        deadline = time.monotonic() + SETTLE_S  # a hung agent is left to the final cancel
        while not run.state.settled and time.monotonic() < deadline:
            if cancel_at is not None and run.chunk_total >= cancel_at:
                run.cancel()
                break
            time.sleep(0.001)
        if run.state is RunState.WAITING_USER_INPUT:
            with contextlib.suppress(RunStateError, InvalidInputError):  # cancelled meanwhile, or an empty answer
                run.submit(answer)
    finally:
        case.finish()


@FAULTS
@given(garbage_items=st.lists(garbage, min_size=1, max_size=8), valid=st.integers(min_value=0, max_value=20))
def test_chunk_garbage_never_ends_a_run(garbage_items: list[Any], valid: int) -> None:
    """Malformed chunks (bytes, non-JSON, wrong types, huge strings, lone surrogates) are counted, not fatal."""
    case = Case()
    rng = random.Random(valid)
    body: list[Any] = [chunk("sub_reporter", "message", f"t{i} ", section_idx="1") for i in range(valid)]
    for item in garbage_items:
        body.insert(rng.randint(0, len(body)), item)
    agent = ScriptedAgent([*body, final_result("# R\n\ndone"), all_end()])
    try:
        run = case.start(agent, "garbage")
        assert run is not None
        case.call(lambda: run.wait(STEP_S))
        assert run.state is RunState.COMPLETED, run.error
    finally:
        case.finish()


@dataclass(frozen=True)
class Op:
    thread: int
    action: str  # start / cancel / submit / answer_cancel
    conversation: int
    delay_ms: int


ops = st.builds(
    Op,
    st.integers(min_value=0, max_value=3),
    st.sampled_from(["start", "start", "cancel", "submit", "submit", "answer_cancel"]),
    st.integers(min_value=0, max_value=2),
    st.integers(min_value=0, max_value=15),
)


@settings(FAULTS, max_examples=50)
@given(
    plan=st.lists(ops, min_size=1, max_size=16),
    shapes=st.lists(
        st.tuples(st.integers(min_value=0, max_value=20), st.sampled_from(["report", "question", "none"])),
        min_size=3,
        max_size=3,
    ),
    fault_list=st.lists(faults, max_size=2),
)
def test_start_cancel_submit_from_threads(
    plan: list[Op], shapes: list[tuple[int, str]], fault_list: list[Fault]
) -> None:
    """Start / cancel / submit on three conversations from four threads while the loop runs in a fifth."""
    case = Case()
    release = asyncio.Event()
    errors: list[BaseException] = []

    def latest(conversation: str) -> Run | None:
        with case.lock:
            found = [run for run, _ in case.runs if run.conversation_id == conversation]
        return found[-1] if found else None

    def worker(mine: Iterator[Op]) -> None:
        try:
            for op in mine:
                time.sleep(op.delay_ms / 1000)
                conversation = f"c{op.conversation}"
                if op.action == "start":
                    tokens, ending = shapes[op.conversation]
                    first = script(tokens, ending, fault_list if op.conversation == 0 else [], release)
                    case.start(ScriptedAgent(first, script(2, "report", [], None)), conversation)
                    continue
                run = latest(conversation)
                if run is None:
                    continue
                if op.action == "cancel":
                    run.cancel()
                    continue
                with contextlib.suppress(RunStateError, RunNotFound, InvalidInputError):  # not waiting: refused
                    run.submit("cancel" if op.action == "answer_cancel" else "Europe")
        except BaseException as exc:  # reported below: a thread's failure must fail the case
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(iter([op for op in plan if op.thread == k]),), daemon=True)
        for k in range(4)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(STEP_S * 2)
            assert not thread.is_alive(), "hang: a steering thread did not finish"
        assert not errors, errors
        for run, agent in case.runs:  # a resumed round never started after a cancel (finding 1)
            if run.state is RunState.CANCELLED and run.exchanges:
                assert len(agent.calls) == len(run.rounds)
    finally:
        case.finish()


if not SURROGATES_FIXED:

    def test_lone_surrogate_garbage_waits_for_finding_4() -> None:
        pytest.skip("issue 9 finding 4 (lone surrogates in parse_chunk) is not in this tree: that strategy is left out")

"""Benchmark of step mode: what a step pause costs beyond the person's think time, and what a fork costs.

* ``step_pause_overhead_ms``: the demo session (``DEMO_QUESTION``, ``DEMO_ANSWERS``, no pacing, no panel,
  no transcript) run once without step mode and once in step mode where every step pause is answered
  "continue" the moment it is asked (zero think time, from a run listener on the loop); the figure is
  the difference of the two median times divided by the number of step pauses: the whole cost of a
  pause (the request, the WAITING and RUNNING transitions, the events, the answer's check and record, the
  agent's step point and the wake-up) per pause. Target: <= 20 ms.
* ``fork_ms``: the same stepped session held at the last section's "written" pause; the figure is the
  median time from ``handle.fork()`` until the fork waits at that same pause (its history replayed: every
  answer and step answer again, its transcript written), through ``research()`` as a notebook user calls
  it (display off). Target: <= 500 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from .._agents._local import DEMO_ANSWERS, DEMO_QUESTION, LocalResearchAgent
from .._protocol import HitlAnswer, HitlStage
from ..runtime import HitlRequested, Run, RunManager, RunState, ScriptedAnswers

__all__ = ["LABELS", "run"]

LABELS = {
    "step_pauses": "step pauses in the stepped demo session",
    "step_plain_ms": "demo session without step mode, median (ms)",
    "step_stepped_ms": "the same in step mode, every pause answered at once, median (ms)",
    "step_pause_overhead_ms": "what one step pause adds beyond think time (ms; target <= 20)",
    "fork_ms": "fork at the last section until the fork waits there, median (ms; target <= 500)",
}


async def _session(manager: RunManager, agent: LocalResearchAgent, *, step: bool) -> tuple[float, int]:
    """One demo session; step pauses answered 'continue' at once. Returns (seconds, step pauses)."""
    script = ScriptedAnswers(list(DEMO_ANSWERS))
    pauses = 0
    started = time.perf_counter()
    run = manager.start(agent, DEMO_QUESTION, step=step)

    def answer(event: object) -> None:
        nonlocal pauses
        if isinstance(event, HitlRequested):
            request = event.request
            if request.stage is HitlStage.STEP:
                pauses += 1
                reply: HitlAnswer | None = HitlAnswer.step()
            else:
                reply = script.next_for(request.stage)
            assert reply is not None, "the demo answers ran out"
            run.loop.call_soon(_submit, run, reply)

    run.subscribe(answer)
    await run.wait(60)
    assert run.state is RunState.COMPLETED, run.error
    return time.perf_counter() - started, pauses


def _submit(run: Run, answer: HitlAnswer) -> None:
    run.submit(answer)


async def _fork_once(folder: Path) -> float:
    from .._ui._research import research  # the notebook path (ui layer), loaded only for this figure

    manager = RunManager()
    answers: list[Any] = [*DEMO_ANSWERS]
    first = research(
        DEMO_QUESTION, step=True, manager=manager, display=False, answer_timeout=None, transcript=folder / "a.jsonl"
    )
    run = first.run
    while True:  # step the original to the last section's "written" pause
        await _until_waiting(run, len(run.exchanges))
        request = run.pending
        assert request is not None
        step = request.step
        if step is not None and step.kind == "section" and step.section == step.sections:
            break
        run.submit(answers.pop(0) if request.stage is not HitlStage.STEP else "continue")
    answered = len(run.exchanges)
    started = time.perf_counter()
    second = first.fork(transcript=folder / "b.jsonl")
    await _until_waiting(second.run, answered)
    elapsed = time.perf_counter() - started
    for handle in (first, second):
        handle.cancel()
        await handle
    await manager.drain(10)
    return elapsed


async def _until_waiting(run: Run, answered: int) -> None:
    """Wait for the stop that comes after ``answered`` answers (events, no polling)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def check(_event: object = None) -> None:
        if run.state is RunState.WAITING_USER_INPUT and run.pending is not None and len(run.exchanges) == answered:
            if not ready.done():
                ready.set_result(None)
        elif run.state.terminal and not ready.done():
            ready.set_exception(RuntimeError(f"the run ended {run.state.value}: {run.error}"))

    unsubscribe = run.subscribe(check)
    try:
        check()
        await asyncio.wait_for(ready, 60)
    finally:
        unsubscribe()


async def _measure(repeats: int) -> dict[str, float | int]:
    agent = LocalResearchAgent()
    manager = RunManager()
    await _session(manager, agent, step=False)  # warm: index, caches
    plain: list[float] = []
    stepped: list[float] = []
    pauses = 0
    for _ in range(repeats):  # interleaved, so a change in the machine's load hits both sides alike
        plain.append((await _session(manager, agent, step=False))[0])
        seconds, pauses = await _session(manager, agent, step=True)
        stepped.append(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        forks = [await _fork_once(Path(tmp) / str(i)) for i in range(max(3, repeats // 2))]
    plain_ms, stepped_ms = statistics.median(plain) * 1000, statistics.median(stepped) * 1000
    return {
        "step_pauses": pauses,
        "step_plain_ms": round(plain_ms, 2),
        "step_stepped_ms": round(stepped_ms, 2),
        "step_pause_overhead_ms": round((stepped_ms - plain_ms) / max(pauses, 1), 3),  # below 0: noise
        "fork_ms": round(statistics.median(forks) * 1000, 1),
    }


def run(repeats: int = 15) -> dict[str, float | int]:
    return asyncio.run(_measure(repeats))

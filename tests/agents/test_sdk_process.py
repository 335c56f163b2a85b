"""What only a fresh process shows: the SDK's first session release, and research on a second event loop.

One subprocess (the SDK imported once, as in a new kernel or script) runs :data:`SCRIPT`:

* finding 5: the first cleanup in a process must not block the event loop (the SDK imports
  ``openjiuwen.agent_teams`` on its first release, 0.5-0.8 s); a heartbeat task measures the loop's
  worst stall while a run paused at its first question is cancelled and cleaned up;
* finding 2: two research runs, each in its own ``asyncio.run`` (the SDK caches its model clients
  process-wide, bound to the first loop), both ask their clarification and both report in English;
  then two ``research_sync()`` calls do the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ._sdk_support import LOG_DIR, SDK_MARKS, guard, workdir

__all__ = ["guard", "workdir"]  # fixtures used by name (the guard covers this process only)
pytestmark = SDK_MARKS

SCRIPT = r"""
import asyncio, faulthandler, json, sys, time
faulthandler.dump_traceback_later(90)  # a stall shows every thread's stack in the failure message
from deepsearch_nb import OpenJiuwenAgent, RunState, research_sync
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import StubLLM, loopback_only
from deepsearch_nb._agents._local import demo_corpus_path

Q = "What should a utility planner know about grid-scale battery storage?"

def agent(llm):
    return OpenJiuwenAgent(base_url=llm.base_url, model="stub-model", api_key_env="LLM_KEY", corpus=demo_corpus_path())

async def first_cleanup(llm):
    manager = RunManager()
    run = manager.start(agent(llm), Q, conversation_id="first_release")
    assert await run.until_settled(120) is RunState.WAITING_USER_INPUT, run.error
    worst = 0.0
    beating = True
    async def heartbeat():
        nonlocal worst
        last = time.perf_counter()
        while beating:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            worst = max(worst, now - last - 0.005)
            last = now
    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.02)
    run.cancel()
    await run.wait(30)
    await manager.drain(30)
    beating = False
    await beat
    return {"state": run.state.value, "worst_stall_s": worst, "stores": run.agent.sdk_sessions(run.conversation_id)}

async def research(llm):
    manager = RunManager()
    run = manager.start(agent(llm), Q)
    asked = []
    for answer in ("Focus on costs.", "accept"):
        assert await run.until_settled(120) is RunState.WAITING_USER_INPUT, run.error
        asked.append(run.pending.stage.value)
        run.submit(answer)
    await run.wait(120)
    await manager.drain(30)
    report = run.result.response_content if run.result else ""
    return {"state": run.state.value, "asked": asked, "error": run.error, "english": "# Conclusion" in report,
            "notices": [n.message for n in run.notices]}

def sync_research(llm):
    report = research_sync(Q, agent=agent(llm), answers=["Focus on costs.", "accept"], display=False)
    return {"status": report.status, "asked": [e["stage"] for e in report.doc["hitl"]],
            "english": "# Conclusion" in report.markdown}

out = {}
with loopback_only(), StubLLM() as llm:
    out["first_cleanup"] = asyncio.run(first_cleanup(llm))
    out["runs"] = [asyncio.run(research(llm)), asyncio.run(research(llm))]
    out["sync"] = [sync_research(llm), sync_research(llm)]
    out["clarifications"] = llm.kinds().count("questions")
print("RESULT " + json.dumps(out))
"""


def test_a_fresh_process_cleans_up_without_stalling_and_researches_on_a_second_loop(workdir: Path) -> None:
    env = {**os.environ, "LLM_KEY": "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d", "DEEPSEARCH_NB_SDK_LOG_DIR": str(LOG_DIR)}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", SCRIPT],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT ") :])
    first = result["first_cleanup"]
    assert first["state"] == "CANCELLED" and first["stores"] == []
    assert first["worst_stall_s"] < 0.25, first  # was 0.5-0.8 s: the SDK's first release imported agent_teams
    for run in result["runs"]:
        assert run["state"] == "COMPLETED", run
        assert run["asked"] == ["clarification", "outline_review"], run  # the second loop's intent call works
        assert run["english"], run
    for report in result["sync"]:
        assert report["status"] == "COMPLETED" and report["asked"][0] == "clarification" and report["english"], report
    assert result["clarifications"] == 5  # the first (cancelled) run, two asyncio.run, two research_sync
    assert done.stdout.strip().splitlines() == lines, "the SDK printed to stdout"
    assert "Building prefix dict" not in done.stderr and "| INFO |" not in done.stderr  # its import logs went to files

"""The real openJiuwen SDK in a real kernel, steered through the panel with the browser's comm messages.

The stub LLM runs in this test process on 127.0.0.1; the kernel talks to it over loopback, inside
``loopback_only()`` (any other connection or lookup in the kernel is refused and recorded). The LLM key is a
random string in an environment variable: it must appear in no message the kernel sends.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepsearch_nb.testing import StubLLM

from ._kernel import KernelSession
from .conftest import SETUP
from .test_panel_in_kernel import assert_clean, custom_messages, start, statuses, wait_report, wait_status

pytest.importorskip("openjiuwen_deepsearch", reason="the openJiuwen SDK is not installed (the 'sdk' extra)")
pytestmark = pytest.mark.kernel

KEY_ENV = "DEEPSEARCH_NB_KERNEL_LLM_KEY"
LOG_ENV = "DEEPSEARCH_NB_SDK_LOG_DIR"
MODEL = "stub-model"
QUESTION = "What should a utility planner know about grid-scale battery storage?"


@pytest.fixture(scope="module")
def llm() -> Iterator[StubLLM]:
    with StubLLM(model=MODEL) as stub:
        yield stub


@pytest.fixture(scope="module")
def sdk_kernel(llm: StubLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelSession]:
    """An ipykernel 7 kernel with the SDK agent built as a person would (endpoint, model, key variable)."""
    key = secrets.token_hex(16)
    saved = {name: os.environ.get(name) for name in (KEY_ENV, LOG_ENV)}
    os.environ[KEY_ENV] = key
    os.environ[LOG_ENV] = str(tmp_path_factory.mktemp("sdk-logs"))
    session = KernelSession(None)
    try:
        session.execute(SETUP)
        session.execute(
            "from deepsearch_nb.testing import cancel_probe, loopback_only, record_http_sends\n"
            "_guard_cm = loopback_only()\n_guard = _guard_cm.__enter__()\n"
            "_sends_cm = record_http_sends(probe=cancel_probe)\n_sends = _sends_cm.__enter__()\n"
            "from deepsearch_nb import OpenJiuwenAgent\n"
            "from deepsearch_nb._agents._local import demo_corpus_path\n"
            f"agent = OpenJiuwenAgent(base_url={llm.base_url!r}, model={MODEL!r}, api_key_env={KEY_ENV!r}, "
            "corpus=demo_corpus_path())\n"
        )
        session.major = 7
        session.key = key  # type: ignore[attr-defined]
        yield session
    finally:
        session.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _no_key_in(kernel: KernelSession, mark: int, log_dir: Path) -> None:
    key = kernel.key  # type: ignore[attr-defined]
    assert key not in json.dumps(kernel.log[mark:], default=str)
    assert [p for p in log_dir.rglob("*") if p.is_file() and key in p.read_text(errors="replace")] == []


def test_a_full_hitl_research_through_the_panel(sdk_kernel: KernelSession, llm: StubLLM) -> None:
    k = sdk_kernel
    mark, ids, display_id = start(k, f"h = research({QUESTION!r}, agent=agent, answer_timeout=None)")
    k.comm_msg(ids["stream"], {"method": "custom", "content": {"event": "view"}})  # a browser shows it
    wait_status(k, ids, "WAITING_USER_INPUT", 1, timeout=120)
    assert k.eval_json("h.run.pending.stage") == "clarification"
    k.type_text(ids["input"], "Focus on costs and fire safety for a utility in Europe.")
    k.click(ids["hitl_send"])

    wait_status(k, ids, "WAITING_USER_INPUT", 2, timeout=120)
    assert k.eval_json("h.run.pending.stage") == "outline_review"
    k.type_text(ids["input"], "Add a section on recycling.")
    k.click(ids["hitl_revise"])

    wait_status(k, ids, "WAITING_USER_INPUT", 3, timeout=120)
    outline = k.eval_json("h.run.pending.outline.model_dump(mode='json')")
    outline["title"] = "Edited: grid batteries for a utility"
    outline["sections"] = outline["sections"][:2]
    k.type_text(ids["input"], json.dumps(outline))
    k.click(ids["hitl_replace"])

    wait_status(k, ids, "WAITING_USER_INPUT", 4, timeout=120)
    assert k.eval_json("h.run.pending.stage") == "outline_review"
    k.click(ids["hitl_accept"])

    doc = wait_report(k, display_id, timeout=180)
    assert doc["status"] == "COMPLETED", doc["error"]
    assert [(e["stage"], e["feedback"], e["by"]) for e in doc["hitl"]] == [
        ("clarification", "accepted", "person"),
        ("outline_review", "revise_comment", "person"),
        ("outline_review", "revise_outline", "person"),
        ("outline_review", "accepted", "person"),
    ]
    assert doc["report_markdown"].strip() and doc["sources"]
    assert statuses(k, ids)[-1] == "COMPLETED"
    assert sum(len(t) for msg in custom_messages(k, ids["stream"], mark) for _, t in msg.get("a", [])) > 200
    assert_clean(k, mark)
    assert k.eval_json("agent.sdk_sessions(h.conversation_id)") == []
    assert k.eval_json("[list(b) for b in _guard.blocked]") == []
    _no_key_in(k, mark, Path(os.environ[LOG_ENV]))


def test_the_cancel_button_in_the_final_round(sdk_kernel: KernelSession, llm: StubLLM) -> None:
    k = sdk_kernel
    answers = json.dumps(["Focus on costs.", "accept"])
    mark, ids, display_id = start(k, f"h = research({QUESTION!r}, agent=agent, answers={answers})")
    # When the cancel event is set, on the kernel's own clock (CLOCK_MONOTONIC is the same for every process).
    k.execute(
        "import time as _time\n_set_at = []\n_event = h.run._record.cancel_event\n_set = _event.set\n"
        "def _timed_set():\n    _set_at.append(_time.monotonic())\n    _set()\n"
        "_event.set = _timed_set\n"
    )
    k.wait_for(
        lambda _m: any(
            "section" in title.lower()
            for msg in custom_messages(k, ids["stream"], mark)
            for _, title in msg.get("g", [])
        ),
        120,
    )
    clicked = time.monotonic()
    k.click(ids["cancel"])
    doc = wait_report(k, display_id, timeout=60)
    assert doc["status"] == "CANCELLED" and "cancelled by the user" in (doc["error"] or "")
    set_at = k.eval_json("_set_at")
    assert len(set_at) == 1 and set_at[0] >= clicked
    # When each request left the kernel (the stub's receive time is later, by transit and scheduling).
    assert k.eval_json("_sends.after(0.0)"), "the recorder saw no LLM request: it proves nothing"
    late = k.eval_json(f"[s.describe({set_at[0]!r}) for s in _sends.sends_after({set_at[0]!r})]")
    assert late == [], f"LLM request(s) sent after the cancel event: {late}"
    assert_clean(k, mark)
    time.sleep(0.1)  # a late SDK task would save its checkpoint now
    assert k.eval_json("agent.sdk_sessions(h.conversation_id)") == []
    assert k.eval_json("[list(b) for b in _guard.blocked]") == []
    _no_key_in(k, mark, Path(os.environ[LOG_ENV]))

"""Shared fixtures and checks of the real-SDK tests (``test_sdk_*.py``): stub LLM, network guard, key.

Every test runs the real openJiuwen SDK against :class:`deepsearch_nb.testing.StubLLM` on 127.0.0.1,
inside :func:`deepsearch_nb.testing.loopback_only`, from an empty working directory (which must stay
empty: the SDK's ``./logs`` goes elsewhere), with a random LLM key in an environment variable. The
SDK's log directory is one temporary folder for the whole session (the SDK configures its logging once
per process), set before the first SDK import.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from deepsearch_nb import OpenJiuwenAgent
from deepsearch_nb.testing import HttpSends, NetworkGuard, StubLLM, cancel_probe, loopback_only, record_http_sends

pytest.importorskip("openjiuwen_deepsearch", reason="the openJiuwen SDK is not installed (the 'sdk' extra)")

if "DEEPSEARCH_NB_SDK_LOG_DIR" not in os.environ:  # one folder for the session, removed at exit
    os.environ["DEEPSEARCH_NB_SDK_LOG_DIR"] = tempfile.mkdtemp(prefix="deepsearch-nb-sdk-logs-")
    atexit.register(shutil.rmtree, os.environ["DEEPSEARCH_NB_SDK_LOG_DIR"], ignore_errors=True)
LOG_DIR = Path(os.environ["DEEPSEARCH_NB_SDK_LOG_DIR"])
KEY_ENV = "DEEPSEARCH_NB_TEST_LLM_KEY"
MODEL = "stub-model"
# The SDK's tracer dumps a model holding an InteractiveInput where it declares a dict: pydantic warns on
# every resumed round (a UserWarning from the SDK's internals, not ours; the suite turns warnings into errors).
# The SDK also unwinds about six tasks on a cancel: on a loaded machine that can exceed the `manager`
# fixture's default 0.3 s grace, and the run would then count as abandoned. The grace is a bound, not a
# measure; 10 s still fails a test whose SDK really ignores the cancel.
SDK_MARKS = [
    pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),
    pytest.mark.cancel_grace(10.0),
]
QUESTION = "What should a utility planner know about grid-scale battery storage?"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A random LLM key, not shaped like ``sk-...`` (so only an exact search finds it), in ``KEY_ENV``."""
    value = secrets.token_hex(16)
    monkeypatch.setenv(KEY_ENV, value)
    return value


@pytest.fixture
def guard() -> Iterator[NetworkGuard]:
    with loopback_only() as network:
        yield network


@pytest.fixture
def sends() -> Iterator[HttpSends]:
    """When each HTTP request left this process: compared with a cancel, the stub's receive time would race."""
    with record_http_sends(probe=cancel_probe) as recorded:
        yield recorded


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory (the notebook's folder) that the SDK must leave empty."""
    folder = tmp_path / "notebook"
    folder.mkdir()
    monkeypatch.chdir(folder)
    # research() writes its transcript next to the notebook by design; this guard is about the SDK.
    monkeypatch.setenv("DEEPSEARCH_NB_TRANSCRIPTS", str(tmp_path / "transcripts"))
    yield folder
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert written == [], f"the SDK wrote into the working directory: {written}"


@pytest.fixture
async def llm(guard: NetworkGuard, workdir: Path) -> AsyncIterator[StubLLM]:
    async with StubLLM(model=MODEL) as stub:
        yield stub


def make_agent(llm: StubLLM, **kwargs: Any) -> OpenJiuwenAgent:
    """The agent as a person would write it: endpoint, model, key variable, the shipped corpus."""
    from deepsearch_nb._agents._local import demo_corpus_path

    kwargs.setdefault("corpus", demo_corpus_path())
    kwargs.setdefault("model", MODEL)
    return OpenJiuwenAgent(base_url=llm.base_url, api_key_env=KEY_ENV, **kwargs)


def no_request_after(sends: HttpSends, moment: float) -> None:
    """No LLM request left the process after the cancel: the acceptance check of issue 10.

    Measured where a request goes to a connection (httpcore's pool, below httpx's transport and the adapter's
    last cancel check there; see ``record_http_sends``). A failure
    names each late request with its thread, its task and the cancel event that task saw, which is what
    tells a missing check (no event in its context, another event) from a check that ran too early.
    """
    assert sends.after(0.0), "the recorder saw no LLM request: it proves nothing"
    late = sends.sends_after(moment)
    assert not late, f"{len(late)} LLM request(s) sent after the cancel: " + "; ".join(
        send.describe(moment) for send in late
    )


def files_containing(root: Path, text: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and text in p.read_text(errors="replace")]

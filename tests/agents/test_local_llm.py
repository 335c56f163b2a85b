"""The optional LLM writer of the local agent, against an in-process OpenAI-compatible fake (no network)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from deepsearch_nb import ConfigurationError, LocalResearchAgent
from deepsearch_nb.agents import DEMO_QUESTION

from ._support import assert_round_grammar, assert_sections, run_round

NO_STOPS = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}


class FakeChat:
    """Answers ``POST /v1/chat/completions`` with a streamed completion citing the first evidence."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/chat/completions"
        body = json.loads(request.content)
        self.requests.append({"body": body, "auth": request.headers.get("authorization")})
        if self.status != 200:
            return httpx.Response(self.status, text="model overloaded")
        first = next(line for line in body["messages"][1]["content"].splitlines() if line.startswith("["))
        number = first[1 : first.index("]")]
        words = ["Written ", "by ", "the ", "model ", f"[citation:{number}]."]
        events = [{"choices": [{"delta": {"role": "assistant"}}]}]
        events += [{"choices": [{"delta": {"content": w}}]} for w in words]
        payload = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + ": keep-alive\n\ndata: [DONE]\n\n"
        return httpx.Response(200, content=payload.encode(), headers={"content-type": "text/event-stream"})


def _agent(fake: FakeChat) -> LocalResearchAgent:
    transport = httpx.MockTransport(fake)
    llm = {"base_url": "http://llm.invalid/v1", "model": "fake-model", "api_key": "sk-test", "transport": transport}
    return LocalResearchAgent(llm=llm)


async def test_sections_are_written_by_the_llm(capture_shapes: Any) -> None:
    fake = FakeChat()
    agent = _agent(fake)
    rnd = await run_round(agent, DEMO_QUESTION, "llm_ok", config=NO_STOPS)
    assert_round_grammar(rnd, capture_shapes, "llm_ok")
    assert_sections(rnd)
    sections = len(rnd.outline()["sections"])
    assert len(fake.requests) == sections
    request = fake.requests[0]
    assert request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "fake-model" and request["body"]["stream"] is True
    assert "Evidence:\n[1] " in request["body"]["messages"][1]["content"]
    draft = rnd.text("sub_reporter", "1")
    assert draft.startswith("# ") and draft.endswith("Written by the model [citation:1].")
    report = rnd.report
    assert report.count("Written by the model") == sections
    assert rnd.final_result().citation_messages  # the evidence behind each number


async def test_llm_failure_ends_the_run_like_the_sdk(capture_shapes: Any) -> None:
    agent = _agent(FakeChat(status=503))
    rnd = await run_round(agent, DEMO_QUESTION, "llm_fail", config=NO_STOPS)
    assert_round_grammar(rnd, capture_shapes, "llm_fail")
    tail = [(c["agent"], c["event"], c["content"][:30]) for c in rnd.chunks[-4:]]
    assert tail[0] == ("sub_reporter", "summary_response", "generate section report fail")
    assert tail[1] == ("end", "summary_response", "SECTION END")
    assert tail[2][:2] == ("end", "error") and tail[3] == ("end", "summary_response", "ALL END")
    result = rnd.final_result()
    assert result.failed and "HTTP 503" in result.exception_info and "model overloaded" in result.exception_info
    assert agent.pending_conversations() == ()


async def test_unreachable_llm_is_reported() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    llm = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "transport": httpx.MockTransport(refuse)}
    rnd = await run_round(LocalResearchAgent(llm=llm), DEMO_QUESTION, "llm_down", config=NO_STOPS)
    assert "could not be reached" in rnd.final_result().exception_info


@pytest.mark.parametrize(
    ("llm", "words"),
    [
        ({"model": "m"}, "base_url"),
        ({"base_url": "ftp://x", "model": "m"}, "http"),
        ({"base_url": "http://127.0.0.1:1/v1"}, "model"),
        ({"base_url": "http://127.0.0.1:1/v1", "model": "m", "api_key": 5}, "api_key"),
    ],
)
def test_llm_config_errors(llm: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigurationError, match=words):
        LocalResearchAgent(llm=llm)


def test_llm_repr_hides_the_key() -> None:
    from deepsearch_nb._agents._local._llm import LlmWriter

    writer = LlmWriter({"base_url": "http://127.0.0.1:1/v1", "model": "m", "api_key": "sk-secret"})
    assert "sk-secret" not in repr(writer)

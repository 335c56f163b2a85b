"""Chunk builders: chunks with every field the real openJiuwen agent sends, so scripts look like real streams."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .._protocol._wire import framework_chunk, interrupt_chunk, sdk_chunk

# --- chunk builders --------------------------------------------------------------------------------

_ids = itertools.count(1)


def chunk(
    agent: str,
    event: str,
    content: str = "",
    *,
    conversation_id: str = "conv",
    section_idx: str = "0",
    plan_idx: str = "0",
    step_idx: str = "0",
    message_id: str | None = None,
    message_type: str = "message_chunk",
    created_time: int | str | None = None,
) -> dict[str, Any]:
    """One chunk with every field the SDK sends (``conversation_id`` is rewritten when replayed)."""
    return sdk_chunk(
        agent,
        event,
        content,
        conversation_id=conversation_id,
        message_id=message_id or f"msg-{next(_ids)}",
        created_time=int(time.time() * 1000) if created_time is None else created_time,
        section_idx=section_idx,
        plan_idx=plan_idx,
        step_idx=step_idx,
        message_type=message_type,
    )


def tokens(agent: str, parts: Sequence[str], **fields: Any) -> list[dict[str, Any]]:
    """A streamed LLM message: start, one message per part, done, all with one message_id."""
    mid = fields.pop("message_id", None) or f"msg-{next(_ids)}"
    return [
        chunk(agent, "start", "", message_id=mid, **fields),
        *(chunk(agent, "message", part, message_id=mid, **fields) for part in parts),
        chunk(agent, "done", "", message_id=mid, **fields),
    ]


def _interrupt(agent: str, prompt: str) -> dict[str, Any]:
    return interrupt_chunk(agent, prompt, conversation_id="conv", message_id=f"msg-{next(_ids)}")


def clarification(questions: str = "1. Which region?\n2. Which period?") -> list[dict[str, Any]]:
    """Round ending at the clarification question (generate_questions tokens, feedback_handler)."""
    words = [w + " " for w in questions.split(" ")]
    return [*tokens("generate_questions", words), _interrupt("feedback_handler", "\nEnter your feedback: ")]


def outline_round(outline: Mapping[str, Any], round_no: int = 1) -> list[dict[str, Any]]:
    """Round ending at outline review: the outline JSON, then the outline_interaction interrupt."""
    text = json.dumps(dict(outline), ensure_ascii=False)
    return [
        *tokens("outline", [text]),
        _interrupt("outline_interaction", f"Round {round_no}: waiting for user feedback."),
    ]


def final_result(markdown: str, *, exception_info: str = "") -> dict[str, Any]:
    """The ``end`` chunk carrying a FinalResult (``error`` event when exception_info is set)."""
    result = {
        "response_content": markdown,
        "response_content_type": "text/markdown",
        "citation_messages": {},
        "infer_messages": [],
        "chart_messages": [],
        "workflow_llm_token_usage": {},
        "warning_info": "",
        "exception_info": exception_info,
        "metadata": {},
    }
    event = "error" if exception_info else "summary_response"
    return chunk("end", event, json.dumps(result, ensure_ascii=False))


def all_end() -> dict[str, Any]:
    return chunk("end", "summary_response", "ALL END")


def framework_error(info: str) -> list[dict[str, Any]]:
    """The SDK's exception path: a framework error, then ALL END."""
    now = int(time.time() * 1000)
    return [
        framework_chunk(
            "error",
            json.dumps({"exception_info": info}),
            conversation_id="conv",
            message_id=f"msg-{next(_ids)}",
            created_time=now,
        ),
        framework_chunk(
            "summary_response", "ALL END", conversation_id="conv", message_id=f"msg-{next(_ids)}", created_time=now
        ),
    ]


def report_round(
    sections: Sequence[str],
    *,
    sources: Sequence[tuple[str, str]] = (),
    title: str = "Report",
    accepted: bool = True,
) -> list[dict[str, Any]]:
    """The writing round: per section, sources, sub_reporter tokens, SUCCESS and SECTION END; then the
    final result (Markdown with a Reference Articles list) and ALL END."""
    out: list[dict[str, Any]] = []
    if accepted:
        out.append(chunk("outline_interaction", "user_input_ended", "Outline accepted."))
    for k, text in enumerate(sections, start=1):
        idx = str(k)
        for source_title, url in sources:
            payload = json.dumps({"url": url, "title": source_title, "query": title})
            out.append(chunk("collector_info_retrieval", "summary_response", payload, section_idx=idx, plan_idx="1"))
        out += tokens("sub_reporter", [w + " " for w in text.split(" ")], section_idx=idx)
        out.append(chunk("sub_reporter", "summary_response", "SUCCESS", section_idx=idx))
        out.append(chunk("end", "summary_response", "SECTION END", section_idx=idx, created_time=""))
    refs = "\n\n".join(f"[{i}] [{t}]({u})" for i, (t, u) in enumerate(sources, start=1))
    body = "\n\n".join(f"# {k}. Section {k}\n\n{text}" for k, text in enumerate(sections, start=1))
    markdown = f"# {title}\n\n{body}\n\n# Reference Articles\n\n{refs}\n"
    return [*out, final_result(markdown), all_end()]


def many_chunks(count: int, size: int = 50, *, agent: str = "sub_reporter") -> list[str]:
    """``count`` token chunks of ``size`` characters as JSON strings, ending with ALL END (benchmarks)."""
    text = ("lorem ipsum dolor sit amet " * (size // 27 + 1))[:size]
    mid = "msg-bench"
    out = [json.dumps(chunk(agent, "message", text, message_id=mid, section_idx="1")) for _ in range(count)]
    out.append(json.dumps(final_result("# Bench\n\ndone")))
    out.append(json.dumps(all_end()))
    return out

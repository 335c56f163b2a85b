"""Folding a chunk stream into what a person wants to know: stage, questions, outline, sources, sections.

This is the front-end mapping of the protocol reference (§6.1) kept in one place, so the runtime builds
HITL requests from it and the UI reads progress from it without parsing chunks a second time. ``feed`` is
on the per-chunk path: it only does dictionary lookups and string appends, and parses JSON only when a
payload is complete.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from ._chunk import SUCCESS, Chunk
from ._hitl import HitlRequest, Outline
from ._result import FinalResult, Source
from ._values import AgentName, HitlStage, StreamEvent

__all__ = ["ResearchProgress", "stage_label"]

_STAGE_LABELS = {
    AgentName.GENERATE_QUESTIONS.value: "clarifying the question",
    AgentName.FEEDBACK_HANDLER.value: "waiting for your answer",
    AgentName.OUTLINE.value: "drafting the outline",
    AgentName.OUTLINE_INTERACTION.value: "outline review",
    AgentName.PLAN_REASONING.value: "planning",
    AgentName.COLLECTOR_INFO_RETRIEVAL.value: "collecting sources",
    AgentName.COLLECTOR_SUMMARY.value: "summarising sources",
    AgentName.SUB_REPORTER.value: "writing",
    AgentName.END.value: "finishing",
    AgentName.FRAMEWORK.value: "error",
    AgentName.USER_FEEDBACK_PROCESSOR.value: "report feedback",
    AgentName.SYSTEM.value: "cancelled",
}

_ROUND = re.compile(r"Round\s+(\d+)")


def stage_label(agent: str) -> str:
    """A short human label for the producer ``agent``."""
    return _STAGE_LABELS.get(agent, agent or "working")


@dataclass
class ResearchProgress:
    """Everything learnt so far from a run's chunks, across all its rounds."""

    agent: str = ""  # the producer of the latest chunk
    questions: str = ""  # the latest generate_questions text
    outline: Outline | None = None  # the latest outline
    sources: list[Source] = field(default_factory=list)
    sections_done: set[str] = field(default_factory=set)
    sections_failed: set[str] = field(default_factory=set)
    final_result: FinalResult | None = None
    error: str | None = None  # the agent's exception_info, if it reported one
    notices: list[str] = field(default_factory=list)  # recoverable errors of other producers (bad outline, ...)
    all_end: bool = False
    chunks: int = 0
    malformed: int = 0
    _section_parts: dict[str, list[str]] = field(default_factory=dict, repr=False)  # appended per token
    _pending: dict[str, list[str]] = field(default_factory=dict, repr=False)  # message_id -> payload parts
    _source_urls: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def stage(self) -> str:
        return stage_label(self.agent)

    @property
    def section_text(self) -> dict[str, str]:
        """section_idx -> the sub_reporter draft so far (joined on read: appends stay O(1) per token)."""
        return {idx: "".join(parts) for idx, parts in self._section_parts.items()}

    @property
    def sections_total(self) -> int:
        return len(self.outline.sections) if self.outline is not None else 0

    def feed(self, chunk: Chunk) -> HitlRequest | None:
        """Take one chunk; returns the HITL request when the chunk is an interrupt."""
        self.chunks += 1
        agent = chunk.agent
        self.agent = agent
        event = chunk.event
        if chunk.is_interrupt:
            return self._interrupt(chunk)
        if agent == AgentName.SUB_REPORTER:
            if event == StreamEvent.MESSAGE:
                parts = self._section_parts.get(chunk.section_idx)
                if parts is None:
                    parts = self._section_parts[chunk.section_idx] = []
                parts.append(chunk.content)
            elif event == StreamEvent.SUMMARY_RESPONSE and chunk.content not in ("", SUCCESS):
                self.sections_failed.add(chunk.section_idx)
        elif agent == AgentName.GENERATE_QUESTIONS:
            if event == StreamEvent.START:
                self.questions = ""
            elif event == StreamEvent.MESSAGE:
                self.questions += chunk.content
        elif agent == AgentName.OUTLINE:
            self._collect_payload(chunk, self._set_outline)
        elif agent == AgentName.COLLECTOR_INFO_RETRIEVAL and event == StreamEvent.SUMMARY_RESPONSE:
            self._add_source(chunk.content)
        elif agent == AgentName.END or agent == AgentName.FRAMEWORK:
            self._end(chunk)
        elif event == StreamEvent.ERROR:
            self.notices.append(_exception_info(chunk.content))
        return None

    def _collect_payload(self, chunk: Chunk, done: Callable[[str], None]) -> None:
        """Payload JSON may come in several ``message`` chunks; parse once the ``done`` arrives."""
        mid = chunk.message_id
        if chunk.event == StreamEvent.START:
            self._pending[mid] = []
        elif chunk.event == StreamEvent.MESSAGE:
            self._pending.setdefault(mid, []).append(chunk.content)
        elif chunk.event == StreamEvent.DONE:
            parts = self._pending.pop(mid, None)
            if parts:
                done("".join(parts))

    def _set_outline(self, text: str) -> None:
        with contextlib.suppress(ValidationError):  # a partial or foreign outline: keep the previous one
            self.outline = Outline.model_validate_json(text)

    def _add_source(self, content: str) -> None:
        try:
            data = json.loads(content)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        url = str(data.get("url", ""))
        if not url or url in self._source_urls:
            return
        index = len(self.sources) + 1
        self._source_urls[url] = index
        self.sources.append(
            Source(index=index, title=str(data.get("title") or url), url=url, query=str(data.get("query", "")))
        )

    def _end(self, chunk: Chunk) -> None:
        if chunk.is_all_end:
            self.all_end = True
        elif chunk.is_section_end:
            self.sections_done.add(chunk.section_idx)
        elif chunk.is_final_result:
            try:
                self.final_result = FinalResult.from_content(chunk.content)
            except (ValueError, ValidationError) as exc:
                self.error = f"The final result could not be read: {exc}"
                return
            if self.final_result.exception_info:
                self.error = self.final_result.exception_info.strip()
        elif chunk.event == StreamEvent.ERROR:
            self.error = _exception_info(chunk.content)

    def _interrupt(self, chunk: Chunk) -> HitlRequest:
        stage = HitlStage.for_agent(chunk.agent)
        match = _ROUND.search(chunk.content)
        return HitlRequest(
            stage=stage,
            agent=chunk.agent,
            prompt=chunk.content,
            questions=self.questions if stage == HitlStage.CLARIFICATION else "",
            outline=self.outline if stage == HitlStage.OUTLINE_REVIEW else None,
            round=int(match.group(1)) if match else None,
            conversation_id=chunk.conversation_id,
        )

    def report_markdown(self) -> str:
        """The final report, or what the sections had written so far (for a cancelled or failed run)."""
        if self.final_result is not None and self.final_result.response_content:
            return self.final_result.response_content
        sections = self.section_text
        return "\n\n".join(sections[k] for k in sorted(sections, key=_section_key))


def _section_key(idx: str) -> tuple[int, str]:
    return (int(idx), idx) if idx.isdigit() else (1 << 30, idx)


def _exception_info(content: str) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return content.strip()
    if isinstance(data, dict) and "exception_info" in data:
        return str(data["exception_info"]).strip()
    return content.strip()

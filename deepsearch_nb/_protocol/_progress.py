"""Folding a chunk stream into what a person wants to know: stage, questions, outline, sources, sections.

This is the front-end mapping of the protocol reference (§6.1) kept in one place, so the runtime builds
HITL requests from it and the UI reads progress from it without parsing chunks a second time. ``feed`` is
on the per-chunk path: it only does dictionary lookups and string appends, and parses JSON only when a
payload is complete. It returns what the chunk changed (a :class:`ProgressUpdate`), which the runtime puts
in its events: a front end never reads the fold back or re-parses a payload.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from ._chunk import SUCCESS, Chunk
from ._hitl import HitlRequest, Outline
from ._result import FinalResult, Source
from ._summary import summarise_payload
from ._values import AgentName, HitlStage, StreamEvent

__all__ = ["NO_CHANGE", "ProgressUpdate", "ResearchProgress", "stage_label"]

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


@dataclass(frozen=True, slots=True)
class ProgressUpdate:
    """What one chunk changed in the fold (most token chunks change nothing a person sees)."""

    request: HitlRequest | None = None  # the chunk was an interrupt: the question it asks
    sources: tuple[Source, ...] = ()  # sources seen for the first time
    outline: Outline | None = None  # a new outline
    section_done: str | None = None  # the section_idx whose SECTION END this was
    summary: str | None = None  # one line for a finished outline or plan payload


NO_CHANGE = ProgressUpdate()
"""The update of a chunk that changed nothing but text (shared: no allocation on the token path)."""


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

    def feed(self, chunk: Chunk) -> ProgressUpdate:
        """Take one chunk; returns what it changed (:data:`NO_CHANGE` for most tokens)."""
        self.chunks += 1
        agent = chunk.agent
        self.agent = agent
        event = chunk.event
        if chunk.is_interrupt:
            return ProgressUpdate(request=self._interrupt(chunk))
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
        elif agent == AgentName.OUTLINE or agent == AgentName.PLAN_REASONING:
            text = self._collect_payload(chunk)
            if text is not None:
                outline = self._set_outline(text) if agent == AgentName.OUTLINE else None
                return ProgressUpdate(outline=outline, summary=summarise_payload(agent, text))
        elif agent == AgentName.COLLECTOR_INFO_RETRIEVAL and event == StreamEvent.SUMMARY_RESPONSE:
            source = self._add_source(chunk.content)
            if source is not None:
                return ProgressUpdate(sources=(source,))
        elif agent == AgentName.END or agent == AgentName.FRAMEWORK:
            return self._end(chunk)
        elif event == StreamEvent.ERROR:
            self.notices.append(_exception_info(chunk.content))
        return NO_CHANGE

    def _collect_payload(self, chunk: Chunk) -> str | None:
        """Payload JSON may come in several ``message`` chunks; the whole text once ``done`` arrives."""
        mid = chunk.message_id
        if chunk.event == StreamEvent.START:
            self._pending[mid] = []
        elif chunk.event == StreamEvent.MESSAGE:
            self._pending.setdefault(mid, []).append(chunk.content)
        elif chunk.event == StreamEvent.DONE:
            parts = self._pending.pop(mid, None)
            if parts:
                return "".join(parts)
        return None

    def _set_outline(self, text: str) -> Outline | None:
        with contextlib.suppress(ValidationError):  # a partial or foreign outline: keep the previous one
            self.outline = Outline.model_validate_json(text)
            return self.outline
        return None

    def _add_source(self, content: str) -> Source | None:
        try:
            data = json.loads(content)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        url = str(data.get("url", ""))
        if not url or url in self._source_urls:
            return None
        index = len(self.sources) + 1
        self._source_urls[url] = index
        source = Source(index=index, title=str(data.get("title") or url), url=url, query=str(data.get("query", "")))
        # What a reader needs to open the source in place (the local agent sends both; others may not).
        for key, name in (("content", "document"), ("path", "file")):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                setattr(source, name, value)
        self.sources.append(source)
        return source

    def _end(self, chunk: Chunk) -> ProgressUpdate:
        if chunk.is_all_end:
            self.all_end = True
        elif chunk.is_section_end:
            self.sections_done.add(chunk.section_idx)
            return ProgressUpdate(section_done=chunk.section_idx)
        elif chunk.is_final_result:
            try:
                self.final_result = FinalResult.from_content(chunk.content)
            except (ValueError, ValidationError) as exc:
                self.error = f"The final result could not be read: {exc}"
                return NO_CHANGE
            if self.final_result.exception_info:
                self.error = self.final_result.exception_info.strip()
        elif chunk.event == StreamEvent.ERROR:
            self.error = _exception_info(chunk.content)
        return NO_CHANGE

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

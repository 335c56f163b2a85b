"""One round of a research conversation, from its input to its interrupt or ``ALL END``.

The grammar is the SDK's (protocol reference §1.6): clarification questions and the ``feedback_handler``
interrupt; outline and the ``outline_interaction`` interrupt ("Round N"); then per section plan,
collection, the ``sub_reporter`` draft, ``SUCCESS`` and ``SECTION END``; then the ``FinalResult`` and
``ALL END``. Sections are written one after the other (the SDK runs them in parallel and interleaves their
chunks; consumers must tell them apart by ``section_idx`` either way).

The round hands its new checkpoint to ``commit`` *before* it yields its last chunk, so a consumer that
stops reading at the interrupt (instead of draining the generator) can resume at once.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import replace

from ..._errors import AgentError, InvalidInputError
from ..._protocol import Outline
from .._stepping import stepping
from . import _steps as steps
from ._clarify import clarification_questions, is_broad
from ._config import LocalSettings
from ._emit import Emitter
from ._focus import Focus
from ._index import CorpusIndex
from ._llm import LlmWriter, section_messages
from ._outline import (
    MAX_USER_SECTIONS,
    OutlineDraft,
    SectionDraft,
    draft_outline,
    outline_from_template,
    outline_from_user,
)
from ._revise import apply_comment
from ._session import Session, Stage
from ._writer import SourceList, citation_messages, final_result_json, find_sources, render_report, write_section

__all__ = ["ALL_END", "RoundRunner"]

ALL_END = "ALL END"
CLARIFY_PROMPT = "\nEnter your feedback: "
Commit = Callable[[Session | None], None]


def _plan_json(title: str, description: str, complete: bool) -> str:
    steps: list[dict[str, object]] = (
        []
        if complete
        else [
            {
                "id": "",
                "type": "info_collecting",
                "title": f"Evidence on {title}",
                "description": description or f"Find and quote what the corpus says about {title}.",
                "parent_ids": [],
                "relationships": [],
                "background_knowledge": [],
                "retrieval_queries": [title],
                "step_result": None,
                "evaluation": "",
            }
        ]
    )
    plan: dict[str, object] = {
        "id": "",
        "language": "en-US",
        "title": "Research complete" if complete else f"Collect evidence: {title}",
        "thought": "The collected sentences cover the section." if complete else "One search of the local corpus.",
        "is_research_completed": complete,
        "steps": steps,
        "background_knowledge": {},
        "use_material_ids": [],
    }
    return json.dumps(plan, ensure_ascii=False, separators=(",", ":"))


def _check_user_outline(message: str) -> OutlineDraft:
    """Parse a ``revise_outline`` message; raises :class:`InvalidInputError` saying what to fix."""
    parsed = Outline.parse(message)
    if len(parsed.sections) > MAX_USER_SECTIONS:
        raise InvalidInputError(
            f"The outline has {len(parsed.sections)} sections; at most {MAX_USER_SECTIONS} are allowed."
        )
    draft = outline_from_user(parsed)
    for i, section in enumerate(draft.sections, start=1):
        if not section.title:
            raise InvalidInputError(f"Section {i} of the outline has no title; give every section a title.")
    return draft if draft.title else replace(draft, title="Research report")


_NO_HEADINGS = (
    "The report template has no Markdown headings, so it gives no sections to follow; this outline is "
    "drafted from the documents instead."
)


class RoundRunner:
    """Runs one round; ``commit`` receives the checkpoint to keep (``None`` releases the conversation)."""

    def __init__(self, index: CorpusIndex, emitter: Emitter, commit: Commit, llm: LlmWriter | None = None) -> None:
        self._index = index
        self._emit = emitter
        self._commit = commit
        self._llm = llm

    async def start(self, question: str, settings: LocalSettings, template: str) -> AsyncGenerator[str]:
        session = Session(Stage.CLARIFICATION, settings, Focus(question), template)
        if settings.human_in_the_loop and is_broad(question, self._index):
            async for chunk in self._emit.stream("generate_questions", clarification_questions(question, self._index)):
                yield chunk
            yield await self._pause(session, CLARIFY_PROMPT)
            return
        async for chunk in self._show_outline(session, self._draft(session)):
            yield chunk

    async def resume(self, session: Session, feedback: str, message: str) -> AsyncGenerator[str]:
        if feedback == "cancel":
            async for chunk in self._finish(final_result_json("")):
                yield chunk
            return
        if session.stage is Stage.CLARIFICATION:
            session = replace(session, focus=replace(session.focus, answer=message))
            async for chunk in self._show_outline(session, self._draft(session)):
                yield chunk
            return
        assert session.outline is not None  # an outline review always has its outline
        if feedback == "accepted":
            await self._emit.tick()
            yield self._emit.chunk("outline_interaction", "user_input_ended", "Outline accepted.")
            async for chunk in self._write(session, session.outline):
                yield chunk
            return
        if feedback == "revise_comment":
            outline = apply_comment(session.outline, message, self._index)
        else:
            try:
                outline = _check_user_outline(message).with_note("Outline replaced by the user's version.")
            except InvalidInputError as exc:
                # The SDK would end the run here; the conversation survives so the user can correct it.
                await self._emit.tick()
                yield self._emit.chunk(
                    "outline_interaction", "error", json.dumps({"exception_info": str(exc)}, ensure_ascii=False)
                )
                yield await self._pause(session, f"Round {session.round}: waiting for user feedback.")
                return
        async for chunk in self._show_outline(session, outline):
            yield chunk

    def _draft(self, session: Session) -> OutlineDraft:
        drafted = draft_outline(self._index, session.focus, session.settings.max_sections)
        templated = outline_from_template(session.template, session.focus.question) if session.template else None
        if templated is None and session.template.strip():  # said, not silently dropped (issue 17)
            return drafted.with_note(_NO_HEADINGS)
        return drafted if templated is None else replace(templated, thought=(*drafted.thought[:-1], *templated.thought))

    async def _pause(self, session: Session, prompt: str) -> str:
        await self._emit.tick()
        self._commit(session)
        return self._emit.interrupt(session.stage.value, prompt)

    async def _show_outline(self, session: Session, outline: OutlineDraft) -> AsyncIterator[str]:
        async for chunk in self._emit.stream("outline", outline.to_json(), whole=True):
            yield chunk
        settings = session.settings
        if settings.outline_interaction and session.round < settings.max_rounds:
            review = replace(session, stage=Stage.OUTLINE_REVIEW, outline=outline, round=session.round + 1)
            yield await self._pause(review, f"Round {review.round}: waiting for user feedback.")
            return
        if settings.outline_interaction:
            await self._emit.tick()
            yield self._emit.chunk("outline_interaction", "user_input_ended", "Maximum interaction rounds reached.")
        await steps.outline_point(outline.title, outline.sections)
        async for chunk in self._write(session, outline):
            yield chunk

    async def _write(self, session: Session, outline: OutlineDraft) -> AsyncIterator[str]:
        emit, index, focus = self._emit, self._index, session.focus
        sources = SourceList(root=index.corpus.root)
        bodies: list[str] = []
        sections = list(outline.sections)  # step mode may edit a section's plan
        total = len(sections)
        for k, section in enumerate(outline.sections, start=1):
            section = sections[k - 1] = await steps.edit_plan(k, total, section)
            plan = _plan_json(section.title, section.description, False)
            async for chunk in emit.stream("plan_reasoning", plan, section=k, plan=1, whole=True):
                yield chunk
            hits = find_sources(index, section, focus)
            for hit in hits:
                await emit.tick()
                payload = sources.collected_json(hit.doc, section.title)
                yield emit.chunk("collector_info_retrieval", "summary_response", payload, section=k, plan=1, step=1)
            hits = await steps.gate_sources(index, k, total, section, hits)
            for hit in hits:  # numbered once kept: a source dropped at the gate is never cited nor listed
                sources.number(hit.doc, section.title)
            kept = copy.deepcopy((sources.quoted, sources.used)) if stepping() else ({}, set())
            text = write_section(index, section, focus, hits, sources)
            while self._llm is None and stepping():  # the extractive draft can be rewritten before it streams
                action = await steps.section_point(k, total, section, text.markdown, rewritable=True)
                if action.action != "rewrite":
                    break
                sources.quoted, sources.used = copy.deepcopy(kept)
                text = write_section(index, steps.rewritten(section, action.instructions), focus, hits, sources)
            await emit.tick()
            summary = text.summary(section.title)
            yield emit.chunk("collector_summary", "summary_response", summary, section=k, plan=1, step=1)
            plan = _plan_json(section.title, "", True)
            async for chunk in emit.stream("plan_reasoning", plan, section=k, plan=2, whole=True):
                yield chunk
            body = text.body
            if self._llm is not None and text.quotes:
                parts: list[str] = []
                try:
                    async for chunk in self._llm_draft(k, section, focus.question, text.quotes, parts):
                        yield chunk
                except AgentError as exc:  # the SDK's sub-report failure: the run ends with an error result
                    await emit.tick()
                    yield emit.chunk("sub_reporter", "summary_response", "generate section report fail", section=k)
                    await emit.tick()
                    yield emit.chunk("end", "summary_response", "SECTION END", section=k, timed=False)
                    info = f"Error when writing section {k} with the LLM: {exc}"
                    async for chunk in self._finish(final_result_json("", exception_info=info), error=True):
                        yield chunk
                    return
                body = "".join(parts).strip()
            else:
                async for chunk in emit.stream("sub_reporter", text.markdown, section=k):
                    yield chunk
            await emit.tick()
            yield emit.chunk("sub_reporter", "summary_response", "SUCCESS", section=k)
            await emit.tick()
            yield emit.chunk("end", "summary_response", "SECTION END", section=k, timed=False)
            if self._llm is not None:
                await steps.section_point(k, total, section, body, rewritable=False)
            bodies.append(body)
        outline = replace(outline, sections=tuple(sections))
        await steps.report_point(outline.title, sections)
        report = render_report(outline, focus, bodies, sources, len(index.corpus), index.corpus.documents)
        async for chunk in self._finish(final_result_json(report, citation_messages(sources))):
            yield chunk

    async def _llm_draft(
        self, k: int, section: SectionDraft, question: str, quotes: Sequence[tuple[int, str]], parts: list[str]
    ) -> AsyncIterator[str]:
        """The section as the LLM writes it, streamed as ``sub_reporter`` tokens; ``parts`` gets the text."""
        assert self._llm is not None
        emit = self._emit
        message_id = emit.new_id()
        await emit.tick()
        yield emit.chunk("sub_reporter", "start", message_id=message_id, section=k)
        await emit.tick()
        yield emit.chunk("sub_reporter", "message", f"# {section.title}\n\n", message_id=message_id, section=k)
        messages = section_messages(question, section.title, section.description, quotes)
        try:
            async for delta in self._llm.stream(messages, stage=f"section {k}: {section.title}"):
                await emit.tick()
                parts.append(delta)
                yield emit.chunk("sub_reporter", "message", delta, message_id=message_id, section=k)
        except AgentError:  # close the stream before reporting the failure, so the grammar holds
            yield emit.chunk("sub_reporter", "done", message_id=message_id, section=k)
            raise
        await emit.tick()
        yield emit.chunk("sub_reporter", "done", message_id=message_id, section=k)

    async def _finish(self, final_result: str, error: bool = False) -> AsyncIterator[str]:
        await self._emit.tick()
        yield self._emit.chunk("end", "error" if error else "summary_response", final_result)
        await self._emit.tick()
        self._commit(None)
        yield self._emit.chunk("end", "summary_response", ALL_END)

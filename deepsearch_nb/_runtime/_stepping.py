"""Step mode in the runtime: the run pauses at each stage boundary, WAITING like at an agent's question.

A step pause is the runtime's own stop inside a round, not the end of one: the round's task awaits a future
that the person's answer resolves (``Continue``, ``Run to end``, an edit). While it waits the run is
``WAITING_USER_INPUT`` with a pending request of stage ``step``, counted in ``stats().paused_sessions``
and ``stats().step_pauses``, evictable like any paused run, and Cancel, eviction and the answer timeout
work there as at an agent's stop (a cancel cancels the waiting task; the agent sees ``CancelledError``).

Two ways to reach a boundary:

* an agent that reports its stage boundaries (the local agent, :class:`SupportsStepPoints`) awaits the
  hook the runtime puts in :data:`step_context`: it really stops computing, and it gets the edit back;
* any other agent (the SDK, a remote server, a replay) is paused between two chunks of its stream by the
  rules of :class:`StreamSteps`: the stream is held (not read), while an agent that computes in
  background tasks goes on computing into its own buffers. Edits do not reach such an agent.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from .._agents._stepping import SupportsStepPoints
from .._protocol import SECTION_END, AgentName, Chunk, HitlAnswer, HitlRequest, HitlStage, ResearchProgress, StreamEvent
from .._protocol._chunk import ALL_END
from .._protocol._step import STEP_AGENT, StepAction, StepKind, StepPoint
from ._events import AnswerBy, AnswerSubmitted, HitlRequested
from ._record import HitlExchange, RunRecord
from ._state import RunState
from ._watchdog import watch

__all__ = ["Stepping", "StreamSteps", "reports_step_points"]

_CONTINUE = StepAction()


def reports_step_points(record: RunRecord) -> bool:
    agent = record.agent
    return isinstance(agent, SupportsStepPoints) and bool(agent.reports_step_points())


class Stepping:
    """The manager's step pauses (mixed into :class:`Lifecycle`, whose maps it shares)."""

    _paused: OrderedDict[str, RunRecord]
    _running: dict[str, asyncio.Task[None]]
    stall_after_s: float

    def _evict_over_capacity(self) -> None: ...

    async def _step_pause(self, record: RunRecord, point: StepPoint) -> StepAction:
        """Pause ``record``'s round here until an answer (on the run's loop, inside its round's task)."""
        if not record.step or record.cancel_event.is_set() or record.state is not RunState.RUNNING:
            return _CONTINUE
        if not point.sections:
            point = point.model_copy(update={"sections": record.progress.sections_total})
        outline = record.progress.outline if point.kind is StepKind.OUTLINE else None
        request = HitlRequest(
            stage=HitlStage.STEP,
            agent=STEP_AGENT,
            prompt=f"Step: {point.label}. Continue, run to end, or cancel.",
            outline=outline,
            step=point,
            conversation_id=record.conversation_id,
        )
        future: asyncio.Future[StepAction] = record.loop.create_future()
        record.step_future = future
        record.pending = request
        self._paused[record.key] = record
        record.emit(HitlRequested(request))
        record.set_state(RunState.WAITING_USER_INPUT)
        self._evict_over_capacity()
        try:
            action = await future
        finally:
            record.step_future = None
        watch(record, self.stall_after_s)  # the stall clock starts again with the stage
        return action

    def _answer_step(self, record: RunRecord, request: HitlRequest, answer: HitlAnswer, by: AnswerBy) -> None:
        """Resolve a step pause (the answer was checked against ``request``): the round goes on."""
        future = record.step_future
        action = StepAction.parse(answer.message)
        record.pending = None
        self._paused.pop(record.key, None)
        record.exchanges.append(HitlExchange(request, answer, AnswerBy(by)))
        record.emit(AnswerSubmitted(request, answer, AnswerBy(by)))
        if action.action == "run_to_end":
            record.step = False
        record.set_state(RunState.RUNNING)
        if future is not None and not future.done():
            future.set_result(action)

    def _stop_held_round(self, record: RunRecord) -> None:
        """An evicted run held at a step pause still has its round's task: cancel it too."""
        task = self._running.get(record.key)
        if task is not None and record.step_future is not None:
            task.cancel()


def _is_end_marker(chunk: Chunk) -> bool:
    return chunk.content in (ALL_END, SECTION_END)


class StreamSteps:
    """Where to hold the stream of an agent that reports no step points (one per round).

    ``before(chunk)`` is asked before a chunk is taken (the pause holds that chunk: sources gathered,
    the final report, what follows an outline or questions when the agent does not stop there itself);
    ``after(chunk)`` once it was taken (a section's first plan, a section's end).
    """

    def __init__(self, progress: ResearchProgress) -> None:
        self._progress = progress
        self._last: tuple[str, str] = ("", "")
        self._collecting: str | None = None
        self._planned: set[str] = set()
        self._report = False

    def _point(self, kind: StepKind, section: str = "") -> StepPoint:
        outline = self._progress.outline
        number = int(section) if section.isdigit() else 0
        title = ""
        if outline is not None:
            title = outline.sections[number - 1].title if 0 < number <= len(outline.sections) else outline.title
        text = self._progress.section_text.get(section, "") if kind is StepKind.SECTION else ""
        return StepPoint(kind=kind, section=number, title=title, text=text)

    def before(self, chunk: Chunk) -> StepPoint | None:
        last, self._last = self._last, (chunk.agent, chunk.event)
        if chunk.is_interrupt:
            self._collecting = None
            return None
        if last == (AgentName.OUTLINE.value, StreamEvent.DONE.value):
            return self._point(StepKind.OUTLINE)
        if last == (AgentName.GENERATE_QUESTIONS.value, StreamEvent.DONE.value):
            return self._point(StepKind.QUESTIONS)
        collecting = self._collecting
        if chunk.agent == AgentName.COLLECTOR_INFO_RETRIEVAL and chunk.event == StreamEvent.SUMMARY_RESPONSE:
            self._collecting = chunk.section_idx
            if collecting is None or collecting == chunk.section_idx:
                return None
        elif collecting is not None:
            self._collecting = None
        if collecting is not None and collecting != self._collecting:
            return self._point(StepKind.SOURCES, collecting)
        if chunk.agent == AgentName.END and not _is_end_marker(chunk) and not self._report:
            self._report = True
            return self._point(StepKind.REPORT)
        return None

    def after(self, chunk: Chunk) -> StepPoint | None:
        first_plan = chunk.section_idx not in self._planned
        if chunk.agent == AgentName.PLAN_REASONING and chunk.event == StreamEvent.DONE and first_plan:
            self._planned.add(chunk.section_idx)
            return self._point(StepKind.PLAN, chunk.section_idx)
        if chunk.agent == AgentName.END and chunk.content == SECTION_END:
            return self._point(StepKind.SECTION, chunk.section_idx)
        return None

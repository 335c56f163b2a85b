"""``research()``: one call in a cell shows the panel, runs the agent in the background, and leaves the report.

Why a background task on the kernel's loop: measured on ipykernel 6.31 and 7.4, such a task keeps running
after its cell ends, and widget clicks are handled once the cell is idle, on both versions (ipykernel 6
handles no comm message while a cell runs, awaited or not). So ``research(...)`` returns at once and the
buttons work. The same handle is awaitable, ``report = await research(...)``, for Run All, nbclient and
papermill: those record only outputs of the cell being executed, and the awaited report is that cell's.

Who answers the agent's questions is the runtime's session driver (scripted answers, then a person in the
panel or ``handle.submit(...)``). ``answer_timeout="auto"`` decides how long to wait for a person: forever
once a browser has shown the panel (its stream view reports itself when it renders), otherwise 5 s, after
which the run is cancelled and awaiting the handle raises :class:`HitlTimeout` with what to do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

from .._agents._select import without_masked
from .._errors import ConfigurationError, DeepSearchError, RunStateError
from .._protocol import HitlAnswer, HitlRequest, ReportTemplate, resolve_template
from .._report import Report, report_bundle
from .._report._compare import Comparison, compare
from .._secrets import log_failure
from ..agents import Agent
from ..runtime import (
    Answers,
    Budget,
    CancelOutcome,
    ManagerStats,
    Run,
    RunManager,
    RunState,
    ScriptedAnswers,
    Session,
    TranscriptWriter,
    default_manager,
    run_sync,
    watch_budget,
)
from . import _ipython
from ._options import _allow_nested, _check_timeout
from ._panel import ResearchPanel
from ._reproduce import agent_of, check_corpus, resume_hint, transcript_path
from ._runs_channel import runs_channel

__all__ = [
    "HEADLESS_ANSWER_TIMEOUT_S",
    "AnswerTimeoutOption",
    "ResearchHandle",
    "ResearchOptions",
    "reproduce",
    "research",
    "research_sync",
    "stats",
]

_log = logging.getLogger("deepsearch_nb.ui")

HEADLESS_ANSWER_TIMEOUT_S = 5.0
"""How long ``answer_timeout="auto"`` waits for an answer when no browser shows the panel."""

AnswerTimeoutOption = float | Literal["auto"] | None


class ResearchOptions(TypedDict, total=False):
    """The options of :func:`research`, :func:`research_sync` and :func:`reproduce` (one list for all)."""

    agent: Agent | None  # default: the offline LocalResearchAgent()
    answers: Answers | None  # scripted answers: a list (one per stop) or a dict per stage
    manager: RunManager | None  # default: the process-wide manager
    conversation_id: str | None
    agent_config: Mapping[str, Any] | None
    display: bool  # show the panel (inside a kernel), replaced by the report when the run ends
    answer_timeout: AnswerTimeoutOption  # seconds, None (forever) or "auto"
    transcript: str | Path | bool | None  # where the run's transcript goes; None/True: the default, False: none
    sources: Sequence[object] | None  # the notebook's own data (DataFrames, text, files, folders) for the local agent
    step: bool  # step mode: pause at every stage boundary (Continue, edits, Run to end, Cancel)
    template: str | Path | ReportTemplate | None  # the report's shape: a template name, a Markdown file or text
    budget_tokens: int | None  # LLM tokens (in + out) after which the run is cancelled, "budget reached"
    budget_s: float | None  # seconds of running time (not counting waits for an answer), likewise


def stats(manager: RunManager | None = None) -> ManagerStats:
    """The run manager's bookkeeping (``.is_idle`` is True when nothing runs, waits or is being cleaned up)."""
    return (manager or default_manager()).stats()


def research(question: str, **options: Unpack[ResearchOptions]) -> ResearchHandle:
    """Start a research run in the background and show its panel; returns an awaitable handle.

    ``agent`` defaults to the offline ``LocalResearchAgent()``. ``answers`` scripts the HITL stops: a list
    (one per stop, in order) or a dict per stage (``{"clarification": "...", "outline_review": ["accept"]}``).
    ``answer_timeout``: seconds to wait for a person at each unanswered stop, ``None`` to wait forever, or
    ``"auto"`` (forever once a browser shows the panel, else :data:`HEADLESS_ANSWER_TIMEOUT_S`).
    ``display`` shows the panel (only inside a Jupyter kernel) and, when the run ends, replaces it with
    the report. ``transcript``: every run writes one as it goes (see :func:`transcript_path` for where);
    a path puts it there, ``False`` writes none. ``sources``: the notebook's own data to research instead of
    the demo corpus: DataFrames (a row a document, cited as ``df.loc[42]``; :func:`frame` picks the text
    and title columns), strings of text, and paths of files or folders, indexed together. ``template``: the
    report's sections as Markdown headings (a template name, a file or the text: ``resolve_template``),
    given to every agent and recorded by the report; a missing or empty one raises :class:`TemplateError`.

    ``await research(...)`` returns the :class:`Report` whatever the run's outcome (its ``status`` says
    COMPLETED, CANCELLED or FAILED); it raises :class:`HitlTimeout` when a question went unanswered and
    :class:`InvalidInputError` when a scripted answer did not fit its question.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RunStateError(
            "research() runs on the notebook's event loop: call it in a notebook cell or in async code. "
            "In a script, use deepsearch_nb.research_sync(...)."
        ) from None
    unknown = set(options) - set(ResearchOptions.__annotations__)
    if unknown:
        raise ConfigurationError(
            f"research() got unknown option(s) {', '.join(sorted(unknown))}; "
            f"the options are {', '.join(ResearchOptions.__annotations__)}."
        )
    scripted = ScriptedAnswers(options.get("answers"))  # refuse a malformed script before anything starts
    timeout = _check_timeout(options.get("answer_timeout", "auto"))
    chosen = options.get("template")
    template = resolve_template(chosen) if chosen is not None else None  # refused before anything starts
    budget = Budget(options.get("budget_tokens"), options.get("budget_s"))  # refused before anything starts
    agent = options.get("agent")
    sources = options.get("sources")
    if sources is not None and agent is not None:
        raise ConfigurationError(
            "sources= builds the local agent; with another agent give them to it, "
            "e.g. OpenJiuwenAgent(..., sources=[...])."
        )
    if agent is None:
        from .._agents._local import LocalResearchAgent
        from ._sources import named_sources

        agent = LocalResearchAgent() if sources is None else LocalResearchAgent(sources=named_sources(sources))
    manager = options.get("manager") or default_manager()
    run = manager.start(
        agent,
        question,
        conversation_id=options.get("conversation_id"),
        agent_config=options.get("agent_config"),
        step=bool(options.get("step", False)),
        report_template=template or "",
    )
    watch_budget(run, budget)
    display = options.get("display", True)
    path = transcript_path(options.get("transcript"), run.conversation_id)
    writer = TranscriptWriter.attach(run, path) if path is not None else None
    handle = ResearchHandle(run, scripted, display=display and _ipython.in_kernel(), answer_timeout=timeout)
    handle.transcript = writer.path if writer is not None else None
    if _ipython.in_kernel():  # the runs sidebar and status bar of the front end hear of it
        runs_channel().track(run, _ipython.cell_id())
    handle.manager = manager
    return handle


def research_sync(question: str, **options: Unpack[ResearchOptions]) -> Report:
    """``research(...)`` for synchronous code: runs until the end and returns the :class:`Report`.

    In a script it runs on one long-lived background loop shared by every sync call of the process (so
    clients an agent caches per loop stay valid from one call to the next). Called from a running loop
    (a plain, non-awaiting call in a notebook cell) it makes that loop re-entrant with nest-asyncio, only
    then and only for this call's loop, never at import. Prefer ``await research(...)`` in notebooks.
    """

    async def main() -> Report:
        return await research(question, **options)

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return run_sync(main)
    _allow_nested(loop)
    return loop.run_until_complete(main())


def reproduce(report: Report | Mapping[str, Any] | str | Path, **options: Unpack[ResearchOptions]) -> ResearchHandle:
    """Run a saved report's research again: its question, its answer at every stop, its agent and config.

    ``report`` is a :class:`Report`, a report document, or the path of one saved with ``Report.save``.
    The agent is rebuilt from the spec the report recorded (the same kind and config: the local agent's
    corpus, the SDK's endpoint and model); keys were never saved, so they are read from the environment
    variables the spec names, and a missing one is a :class:`ConfigurationError` that says which to set.
    A templated report runs with its recorded template (checked against its sha256). A local corpus
    whose files changed since the report is refused (:class:`ConfigurationError` naming them): the same
    question over other documents is not a reproduction. ``agent=`` overrides all that.

    ``await reproduce(...)`` returns the new :class:`Report`; its ``comparison`` (and the handle's) says
    whether it is *identical* to the original or how it *diverged* (answers, outline, sections, text,
    sources, citations).
    """
    if isinstance(report, Path) or (isinstance(report, str) and not report.lstrip().startswith("{")):
        report = Report.load(report)
    elif not isinstance(report, Report):
        report = Report.from_document(report)
    doc = report.doc
    if options.get("agent") is None:
        rebuilt = agent_of(doc["agent"])
        check_corpus(doc["agent"], rebuilt)
        options["agent"] = rebuilt
    options.setdefault("answers", [{"feedback": e["feedback"], "message": e["message"]} for e in doc["hitl"]])
    options.setdefault("step", any(e.get("stage") == "step" for e in doc["hitl"]))  # its step pauses and edits
    options.setdefault("agent_config", without_masked(doc["agent"]["config"]))
    if "template" not in options and isinstance(doc.get("template"), Mapping):
        options["template"] = ReportTemplate.from_record(doc["template"])
    handle = research(doc["question"], **options)
    handle.original = report  # compared with the new report when the run ends (the task has not run yet)
    return handle


class ResearchHandle:
    """A research run started by :func:`research`: its panel, its answers, and its report when it ends.

    Await it for the :class:`Report`. ``cancel()`` and ``submit()`` are safe from any thread.
    """

    def __init__(
        self, run: Run, answers: ScriptedAnswers, *, display: bool, answer_timeout: float | str | None
    ) -> None:
        self.run = run
        self.answers = answers
        self.answer_timeout = answer_timeout
        self.report: Report | None = None
        self.error: BaseException | None = None
        self.transcript: Path | None = None  # where this run's transcript is written (None: not written)
        self.original: Report | None = None  # set by reproduce(): the report this run should reproduce
        self.comparison: Comparison | None = None  # reproduce(): the new report against the original
        self.panel: ResearchPanel | None = None
        self.manager: RunManager | None = None  # the manager the run was started on (a fork uses it too)
        self.forks: list[ResearchHandle] = []  # runs forked from this one (the panel's "Fork from here")
        self._created_in = _ipython.execution_count()
        self.session = Session(run, answers=answers, timeout=self._timeout_now, timeout_message=self._timeout_message)
        if display:
            self.panel = ResearchPanel(run)
            self.panel.display()
            self.panel.stream.on_view(self.session.wake)
            self.panel.step_bar.on_fork = self.fork
        self._task: asyncio.Task[None] = run.loop.create_task(self._drive(), name=f"deepsearch-nb research {run.key}")

    # --- reading -----------------------------------------------------------------------------------

    @property
    def state(self) -> RunState:
        return self.run.state

    @property
    def question(self) -> str:
        return self.run.question

    @property
    def conversation_id(self) -> str:
        return self.run.conversation_id

    def done(self) -> bool:
        """The run is over and its report is built (the panel, if any, has been replaced)."""
        return self._task.done()

    def result(self) -> Report:
        """The report of a finished run (raises what awaiting would raise; RunStateError while running)."""
        if not self._task.done():
            raise RunStateError(f"The run {self.run.key} is still {self.run.state.value}; await the handle instead.")
        if self.error is not None:
            raise self.error
        if self.report is None:
            raise RunStateError("The run ended without a report (its task was cancelled).")
        return self.report

    def __await__(self) -> Generator[Any, None, Report]:
        return self._wait().__await__()

    async def _wait(self) -> Report:
        try:
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            if not self._task.done():  # the awaiting cell was stopped: stop the research with it
                self.cancel()
            raise
        return self.result()

    def __repr__(self) -> str:
        question = self.question if len(self.question) <= 60 else self.question[:57] + "..."
        return f"<ResearchHandle {self.state.value} {question!r} conversation_id={self.conversation_id!r}>"

    def _ipython_display_(self) -> None:
        """Nothing in the cell that made the panel (it is already there); else the report or the status."""
        if self.panel is not None and self._created_in is not None and self._created_in == _ipython.execution_count():
            return
        if self.report is not None:
            _ipython.display(self.report)
        else:
            _ipython.display({"text/plain": repr(self)}, raw=True)

    # --- steering (any thread) -------------------------------------------------------------------

    def cancel(self) -> CancelOutcome:
        return self.run.cancel()

    def submit(self, answer: HitlAnswer | str | dict[str, Any]) -> None:
        """Answer the pending question (the same as typing it in the panel)."""
        self.run.submit(answer)

    # --- the background task ---------------------------------------------------------------------

    async def _drive(self) -> None:
        try:
            await self.session.drive()
        except asyncio.CancelledError:
            self._finish()
            raise
        except DeepSearchError as exc:
            self.error = exc
        except Exception as exc:  # a bug here must not leave a live run or a dead panel behind
            log_failure(_log, f"the research helper failed for {self.run.key}", exc, self.run.secrets)
            self.error = exc
            if not self.run.state.terminal:
                self.run.cancel(f"deepsearch_nb failed: {type(exc).__name__}: {exc}")
                await self.run.wait()
        self._finish()

    def _timeout_now(self) -> float | None:
        if self.answer_timeout != "auto":
            return None if self.answer_timeout is None else float(self.answer_timeout)
        if self.panel is not None and self.panel.stream.views_seen > 0:
            return None  # a browser shows the panel: a person can answer, however long it takes
        return HEADLESS_ANSWER_TIMEOUT_S

    def fork(
        self, answer: HitlAnswer | str | dict[str, Any] | None = None, **options: Unpack[ResearchOptions]
    ) -> ResearchHandle:
        """A second live run, in a new conversation, that shares this run's history up to now.

        It goes through the same answers and step edits again in step mode, comes to the same pause, and
        then takes ``answer`` (if given) or waits for a person; ``compare()`` the two reports.
        """
        run = self.run
        answers: list[Any] = [{"feedback": e.answer.feedback.value, "message": e.answer.message} for e in run.exchanges]
        options.setdefault("answers", [*answers, *([answer] if answer is not None else [])])
        for key, value in (("agent", run.agent), ("agent_config", dict(run.agent_config)), ("manager", self.manager)):
            options.setdefault(key, value)  # type: ignore[misc]
        options.setdefault("step", True)
        options.setdefault("answer_timeout", _check_timeout(self.answer_timeout))  # type: ignore[typeddict-item]
        forked = research(run.question, **options)
        self.forks.append(forked)
        return forked

    def _timeout_message(self, request: HitlRequest, limit: float) -> str:
        asked = (request.questions or request.prompt).strip().replace("\n", " ")
        asked = asked if len(asked) <= 160 else asked[:157] + "..."
        if self.answer_timeout == "auto":
            where = (
                "and no browser is showing the panel (a headless run: nbclient, papermill, a script, or display=False)"
            )
        else:
            where = f"(answer_timeout={limit:g})"
        hint = ""
        if self.panel is not None and _ipython.ipykernel_major() == 6:
            hint = (
                " On ipykernel 6 a cell that awaits the run holds widget clicks back until it ends: "
                "call research(...) without await to answer in the panel."
            )
        return (
            f"No answer to the {request.stage.value} question within {limit:g} s {where}. The agent asked: "
            f"{asked!r}. Give scripted answers, e.g. answers=['your clarification', 'accept'] or "
            "answers={'clarification': '...', 'outline_review': ['accept']}, or pass answer_timeout=None "
            f"to wait for handle.submit(...).{hint}{resume_hint(self.transcript)}"
        )

    def _finish(self) -> None:
        """Build the report, put it where the panel was, close the panel's widgets."""
        panel = self.panel
        try:
            self.report = Report.from_run(self.run, transcript=self.transcript)
            if self.original is not None:
                self.comparison = compare(self.original, self.report, labels=("original", "reproduced"))
                self.report = self.report.with_comparison(self.comparison)
        except Exception as exc:
            log_failure(_log, f"building the report of {self.run.key} failed", exc, self.run.secrets)
            self.error = self.error or exc
        if panel is None:
            return
        try:
            if self.report is not None:
                panel.replace_with(report_bundle(self.report.doc))
            else:
                panel.replace_with({"text/plain": f"deepsearch_nb could not build the report: {self.error}"})
        except Exception as exc:
            log_failure(_log, f"replacing the panel of {self.run.key} failed", exc, self.run.secrets)
        finally:
            panel.close()


# --- helpers -----------------------------------------------------------------------------------------

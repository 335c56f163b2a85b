"""The run panel: question, status, progress and stream, outline, sources, Cancel, and the question box.

The panel only reads runtime events (``run.subscribe``), which carry what changed (new sources, the
outline, a finished section, a payload's summary line), and calls runtime methods (``run.cancel``,
``run.submit``); it never touches the agent and never reads the progress fold back. Event handlers run on
the run's event loop. Button clicks may arrive on a kernel subshell thread (JupyterLab routes comms there
on ipykernel 7): a Cancel click calls ``run.cancel()`` first (the cancel event is set before any widget
changes, so the agent's next check sees it), then updates the widgets on the loop.

Stable CSS classes for browser tests: ``deepsearch-panel`` (root), ``deepsearch-status`` (text = the state
name), ``deepsearch-cancel``, ``deepsearch-hitl``, ``deepsearch-hitl-input``, ``deepsearch-hitl-submit``,
``deepsearch-hitl-accept``, ``deepsearch-sources`` (inside the stream view). ``deepsearch-report`` is the
root of the final report that replaces the panel; the live panel never carries it.
"""

from __future__ import annotations

import html
import logging
import uuid
from typing import Any

import ipywidgets as widgets

from .._errors import DeepSearchError
from .._protocol import Chunk, HitlRequest, HitlStage, Outline, ProgressUpdate, Source, stage_label
from .._secrets import log_failure
from ..runtime import (
    AnswerSubmitted,
    ChunkReceived,
    HitlRequested,
    MalformedChunkReceived,
    Notice,
    NoticeKind,
    Run,
    RunEvent,
    RunState,
    StateChanged,
)
from . import _ipython
from ._hitl_box import HitlAction, HitlBox
from ._parts import answer_for, badge, final_stage, outline_html
from ._step_bar import StepBar
from ._stream_view import FLUSH_INTERVAL_S, StreamView
from ._usage_line import UsageLine

__all__ = ["ResearchPanel"]

_log = logging.getLogger("deepsearch_nb.ui")


# Producers whose text belongs to one section of the report (grouped per section in the stream).
_SECTION_AGENTS = frozenset({"sub_reporter", "collector_info_retrieval", "collector_summary", "plan_reasoning"})
# Producers that stream a JSON document, not prose: the stream shows the fold's one-line summary instead,
# except for the outline, which the outline box shows (saying it twice was noise).
_PAYLOAD_AGENTS = frozenset({"outline", "plan_reasoning"})
_SHOWN_ELSEWHERE = frozenset({"outline"})
# Who streams the clarification questions: once asked, they are in the question box only.
_QUESTION_AGENTS = frozenset({"generate_questions"})


class ResearchPanel:
    """Widgets for one run. Build it, ``display()`` it, and ``close()`` it when the run is over."""

    def __init__(self, run: Run, *, interval: float = FLUSH_INTERVAL_S) -> None:
        self.run = run
        self.loop = run.loop
        self.display_id: str | None = None
        self.stopping = False
        self.closed = False
        self._groups: dict[str, str] = {}  # group key -> group id
        self._round = 0
        self._sources = 0
        self._malformed = 0
        self._sections_done = 0
        self._stage = "starting"
        self._outline: Outline | None = None  # the latest outline the events carried
        self._outline_shown: Outline | None = None

        used = f" <small>template: {html.escape(run.template.name)}</small>" if run.template is not None else ""
        self.question = widgets.HTML(value=f"<span>{html.escape(run.question)}</span>{used}")
        self.question.add_class("deepsearch-panel-question")
        self.status = widgets.HTML(value=badge(run.state))
        self.status.add_class("deepsearch-status")
        self.cancel_button = widgets.Button(
            description="Cancel",
            tooltip="Stop the research run",
            button_style="danger",
            icon="stop",
            layout=widgets.Layout(width="auto"),
        )
        self.cancel_button.add_class("deepsearch-cancel")
        self.cancel_button.on_click(self._cancel_clicked)
        self.header = widgets.HBox([self.question, self.status, self.cancel_button])
        self.header.add_class("deepsearch-panel-header")
        self.message = widgets.HTML(value="")
        self.message.add_class("deepsearch-panel-message")
        self.stream = StreamView(self.loop, interval=interval)
        self.outline = widgets.HTML(value="", layout=widgets.Layout(display="none"))
        self.outline.add_class("deepsearch-panel-outline")
        self.hitl = HitlBox(self._hitl_action)
        self.stream.on_hitl(self._hitl_action)  # Ctrl+Enter: the action and its text in one message
        # The HITL box joins the panel at the first question: drawn hidden from the start, it would flash for
        # a frame (a widget's layout reaches the browser after the widget itself).
        self.step_bar = StepBar(run)  # step mode (issue 14)
        self.usage = UsageLine(run)  # tokens so far and the budget (issue 15)
        parts = [self.header, self.usage.widget, self.message, self.stream, self.outline, self.step_bar.box]
        self.root = widgets.VBox(parts)
        self.root.add_class("deepsearch-panel")

        self._show_state(run.state)
        self.stream.set_elapsed(run.elapsed_s, live=not run.state.terminal)
        self.stream.set_progress(stage="starting")
        self._unsubscribe = run.subscribe(self._on_event)
        # A run can be settled before the panel exists (a question already pending, a cancelled key): the
        # one time the panel reads the run's state instead of an event.
        if run.pending is not None:
            self._outline = run.progress.outline
            self._on_question(run.pending)

    # --- display ---------------------------------------------------------------------------------

    def display(self) -> str:
        """Show the panel in the current cell; returns the display id the report will replace."""
        self.display_id = uuid.uuid4().hex
        _ipython.publish(self.root, self.display_id, update=False)
        return self.display_id

    def replace_with(self, bundle: dict[str, Any]) -> None:
        """Put ``bundle`` (a MIME bundle) where the panel was, also after its cell ended."""
        if self.display_id is not None:
            _ipython.publish(bundle, self.display_id, update=True)

    def close(self) -> None:
        """Stop listening and close every widget (and its layout/style), so no widget state is left."""
        if self.closed:
            return
        self.stream.stop()
        self.closed = True
        self._unsubscribe()
        self.usage.close()
        for widget in self._all_widgets():
            for part in (getattr(widget, "layout", None), getattr(widget, "style", None), widget):
                if isinstance(part, widgets.Widget):
                    try:
                        part.close()
                    except Exception:  # closing must never stop the report from being shown
                        _log.debug("closing a panel widget failed", exc_info=True)

    def _all_widgets(self) -> list[widgets.Widget]:
        return [
            self.root,
            self.header,
            self.question,
            self.status,
            self.cancel_button,
            self.message,
            self.stream,
            self.outline,
            *self.hitl.widgets(),
            *self.step_bar.widgets(),
            self.usage.widget,
        ]

    def widget_ids(self) -> dict[str, str]:
        """Comm ids of the widgets a person acts on (for tests that click through the kernel protocol)."""
        ids = {
            "root": self.root.model_id,
            "status": self.status.model_id,
            "cancel": self.cancel_button.model_id,
            "stream": self.stream.model_id,
            "input": self.hitl.input.model_id,
            "hitl_error": self.hitl.error.model_id,
            "hitl_edit_json": self.hitl.edit_json.model_id,
        }
        ids.update({f"hitl_{name}": button.model_id for name, button in self.hitl.buttons.items()})
        ids.update(self.step_bar.widget_ids())
        return ids

    @property
    def status_text(self) -> str:
        """What the status badge says (the state name)."""
        return self._status_text

    # --- runtime events (on the loop) ------------------------------------------------------------

    def _on_event(self, event: RunEvent) -> None:
        if self.closed:
            return
        if isinstance(event, StateChanged):
            self._on_state(event.state)
        elif self.stopping:
            return  # late chunks after a cancel are not shown
        elif isinstance(event, ChunkReceived):
            self._on_chunk(event.chunk, event.update)
        elif isinstance(event, MalformedChunkReceived):
            self._malformed += 1
            self._append("malformed", "Unreadable chunks", f"[unreadable chunk: {event.malformed.reason}]\n")
            self._update_progress(None)
        elif isinstance(event, Notice):
            self._on_notice(event)
        elif isinstance(event, HitlRequested):
            self._on_question(event.request)
        elif isinstance(event, AnswerSubmitted):
            self._round += 1
            self.hitl.hide()
            self.step_bar.hide()
            self._set_message("")

    def _on_chunk(self, chunk: Chunk, update: ProgressUpdate) -> None:
        event = chunk.event
        if update.outline is not None:
            self._outline = update.outline
        for source in update.sources:
            self._add_source(source)
        if update.section_done is not None:
            self._sections_done += 1
        if chunk.agent in _PAYLOAD_AGENTS:
            if update.summary and chunk.agent not in _SHOWN_ELSEWHERE:
                key, title = self._group_for(chunk)
                self._append(key, title, update.summary + "\n")
        elif event == "message" and chunk.content:
            key, title = self._group_for(chunk)
            self._append(key, title, chunk.content)
        elif event == "user_input_ended" and chunk.content:
            key, title = self._group_for(chunk)
            self._append(key, title, chunk.content.strip() + "\n")
        if chunk.agent:
            self._stage = stage_label(chunk.agent)
        self._update_progress(chunk)

    def _add_source(self, source: Source) -> None:
        self._sources += 1
        self.stream.add_source(source.index, source.title, source.url)

    def _on_notice(self, notice: Notice) -> None:
        if notice.kind is NoticeKind.RESUMED_OUTPUT:
            self._set_message("")
        elif notice.kind is not NoticeKind.AGENT_WARNING:
            self._set_message(notice.message, error=notice.kind is NoticeKind.ABANDONED)

    def _on_state(self, state: RunState) -> None:
        self._show_state(state)
        if state.terminal:
            self.hitl.hide()
            self.step_bar.hide()
            self.cancel_button.disabled = True
            self.cancel_button.description = state.value.capitalize()
            self._update_progress(None)
            self.stream.set_progress(stage=final_stage(state))
            self.stream.set_elapsed(self.run.elapsed_s, live=False)
            if state is RunState.FAILED:
                self._set_message(self.run.error or "The run failed.", error=True)
            elif state is RunState.CANCELLED:
                reason = self.run.cancel_reason or "the run was stopped"
                abandoned = " The agent ignored the cancel and was left to finish alone." if self.run.abandoned else ""
                self._set_message(f"Cancelled: {reason}.{abandoned}", error=self.run.abandoned)
            else:
                self.stream.flush()
        elif state is RunState.RUNNING:
            self.stream.set_elapsed(self.run.elapsed_s, live=True)

    def _on_question(self, request: HitlRequest) -> None:
        self._show_outline()
        if self.step_bar.show(request):  # the runtime's step pause: the step bar, not the question box
            self.stream.set_progress(stage=f"step: {request.step.label if request.step else ''}")
            return
        if request.stage == HitlStage.CLARIFICATION:  # the box shows the questions: not the stream too
            for key, gid in list(self._groups.items()):
                if key.split(":")[1] in _QUESTION_AGENTS:
                    self.stream.drop_group(gid)
            self.stream.flush()  # the drop goes out before the box shows them, not up to 80 ms after
        if self.hitl.box not in self.root.children:
            self.root.children = (*self.root.children, self.hitl.box)
        self.hitl.show(request)
        self.stream.set_progress(stage="waiting for your answer")
        self._set_message("")

    # --- what the stream shows -------------------------------------------------------------------

    def _group_for(self, chunk: Chunk) -> tuple[str, str]:
        agent = chunk.agent
        label = stage_label(agent)
        title = label[:1].upper() + label[1:]
        if agent in _SECTION_AGENTS and chunk.section_idx not in ("", "0"):
            idx = chunk.section_idx
            section = self._section_title(idx)
            title = f"{title} - section {idx}" + (f": {section}" if section else "")
            return f"{self._round}:{agent}:{idx}", title
        return f"{self._round}:{agent}", title

    def _section_title(self, idx: str) -> str:
        outline = self._outline
        if outline is None or not idx.isdigit():
            return ""
        k = int(idx) - 1
        return outline.sections[k].title if 0 <= k < len(outline.sections) else ""

    def _append(self, key: str, title: str, text: str) -> None:
        gid = self._groups.get(key)
        if gid is None:
            gid = f"g{len(self._groups)}"
            self._groups[key] = gid
            self.stream.add_group(gid, title)
        self.stream.append(gid, text)

    def _update_progress(self, chunk: Chunk | None) -> None:
        total = len(self._outline.sections) if self._outline is not None else 0
        section = ""
        if chunk is not None and chunk.agent in _SECTION_AGENTS and chunk.section_idx not in ("", "0"):
            section = f"section {chunk.section_idx} of {total}" if total else f"section {chunk.section_idx}"
        elif total and self._sections_done:
            section = f"{self._sections_done} of {total} sections done"
        count = self._sources
        fields = {
            "stage": self._stage,
            "sources": f"{count} source{'s' if count != 1 else ''} found" if count else "",
            "note": f"{self._malformed} unreadable chunk(s)" if self._malformed else "",
        }
        if section:
            fields["section"] = section
        self.stream.set_progress(**fields)
        self.stream.set_elapsed(self.run.elapsed_s, live=not self.run.state.terminal)
        if self._outline is not None and self._outline is not self._outline_shown:
            self._show_outline()

    def _show_outline(self) -> None:
        outline = self._outline
        if outline is None or outline is self._outline_shown:
            return
        self._outline_shown = outline
        self.outline.value = outline_html(outline, self.run.question)
        self.outline.layout.display = ""

    def _show_state(self, state: RunState) -> None:
        self._status_text = state.value
        self.status.value = badge(state)

    def _set_message(self, text: str, *, error: bool = False) -> None:
        if not text:
            self.message.value = ""
        elif error:
            self.message.value = f'<p class="deepsearch-panel-error" role="alert">{html.escape(text)}</p>'
        else:
            self.message.value = f'<p class="deepsearch-panel-info" role="status">{html.escape(text)}</p>'

    # --- clicks (any thread) ---------------------------------------------------------------------

    def _cancel_clicked(self, _button: Any = None) -> None:
        if self.closed or self.stopping or self.run.state.terminal:
            return
        self.stopping = True  # from here on, late chunks are not shown
        try:
            self.run.cancel()  # first: the agent's next cancel check must see the event, widgets can wait
        except Exception as exc:  # the cancel request itself failed: say so, let the user retry
            log_failure(_log, f"cancelling {self.run.key} failed", exc, self.run.secrets)
            self.stopping = False
            message = f"Could not cancel the run: {exc}. Try again."
            self._call_soon(lambda: self._set_message(message, error=True))
            return
        self.cancel_button.disabled = True
        self.cancel_button.description = "Stopping..."
        self._call_soon(self._show_stopping)

    def _show_stopping(self) -> None:
        if self.closed:
            return
        self.root.add_class("deepsearch-stopping")
        self.hitl.hide()
        self.step_bar.hide()
        self.stream.set_progress(stage="stopping")
        if not self.run.state.terminal:
            self._set_message("Stopping the run...")

    def _hitl_action(self, action: HitlAction, text: str) -> None:
        self._call_soon(lambda: self._answer_on_loop(action, text))

    def _answer_on_loop(self, action: HitlAction, text: str) -> None:
        request = self.run.pending
        if self.closed or self.stopping or request is None:
            return
        try:
            answer = answer_for(action, text)
            self.hitl.set_busy(True)
            self.run.submit(answer)
        except DeepSearchError as exc:  # bad outline JSON, empty revision, run no longer waiting...
            self.hitl.refused(text, str(exc))
        except Exception as exc:
            log_failure(_log, f"sending an answer to {self.run.key} failed", exc, self.run.secrets)
            self.hitl.refused(text, f"Unexpected error: {type(exc).__name__}: {exc}")
        else:
            self.hitl.set_busy(False)

    def _call_soon(self, fn: Any) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(fn)

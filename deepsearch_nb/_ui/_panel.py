"""The run panel: question, status, progress and stream, outline, sources, Cancel, and the question box.

The panel only reads runtime events (``run.subscribe``) and calls runtime methods (``run.cancel``,
``run.submit``); it never touches the agent. Event handlers run on the run's event loop. Button clicks may
arrive on a kernel subshell thread (JupyterLab routes comms there on ipykernel 7), so a click only flips
what must change at once (the Cancel button says "Stopping...") and hands the rest to the loop with
``call_soon_threadsafe``.

Stable CSS classes for browser tests: ``deepsearch-panel`` (root), ``deepsearch-status`` (text = the state
name), ``deepsearch-cancel``, ``deepsearch-hitl``, ``deepsearch-hitl-input``, ``deepsearch-hitl-submit``,
``deepsearch-hitl-accept``, ``deepsearch-sources`` (inside the stream view). ``deepsearch-report`` is the
root of the final report that replaces the panel; the live panel never carries it.
"""

from __future__ import annotations

import html
import json
import logging
import uuid
from typing import Any

import ipywidgets as widgets

from .._errors import DeepSearchError
from .._protocol import Chunk, HitlAnswer, HitlRequest, Outline, stage_label
from .._runtime import (
    AnswerSubmitted,
    ChunkReceived,
    HitlRequested,
    MalformedChunkReceived,
    Run,
    RunEvent,
    RunState,
    StateChanged,
)
from ._hitl_box import HitlAction, HitlBox
from ._stream_view import FLUSH_INTERVAL_S, StreamView

__all__ = ["ResearchPanel", "ipython_display", "publish"]

_log = logging.getLogger("deepsearch_nb.ui")

_TONES = {
    RunState.RUNNING: "running",
    RunState.WAITING_USER_INPUT: "waiting",
    RunState.COMPLETED: "ok",
    RunState.FAILED: "error",
    RunState.CANCELLED: "neutral",
}

# Producers whose text belongs to one section of the report (grouped per section in the stream).
_SECTION_AGENTS = frozenset({"sub_reporter", "collector_info_retrieval", "collector_summary", "plan_reasoning"})
# Producers that stream a JSON document, not prose: the stream shows a one-line summary once it is whole.
_PAYLOAD_AGENTS = frozenset({"outline", "plan_reasoning"})


class ResearchPanel:
    """Widgets for one run. Build it, ``display()`` it, and ``close()`` it when the run is over."""

    def __init__(self, run: Run, *, interval: float = FLUSH_INTERVAL_S) -> None:
        self.run = run
        self.loop = run.loop
        self.display_id: str | None = None
        self.stopping = False
        self.closed = False
        self._groups: dict[str, str] = {}  # group key -> group id
        self._payloads: dict[str, list[str]] = {}  # message_id -> JSON parts of an outline or plan
        self._round = 0
        self._source_count = 0
        self._outline_shown: Outline | None = None

        self.question = widgets.HTML(value=f"<span>{html.escape(run.question)}</span>")
        self.question.add_class("deepsearch-panel-question")
        self.status = widgets.HTML(value=_badge(run.state))
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
        # The HITL box joins the panel at the first question: drawn hidden from the start, it would flash for
        # a frame (a widget's layout reaches the browser after the widget itself).
        self.root = widgets.VBox([self.header, self.message, self.stream, self.outline])
        self.root.add_class("deepsearch-panel")

        self._show_state(run.state)
        self.stream.set_elapsed(run.elapsed_s, live=not run.state.terminal)
        self.stream.set_progress(stage="starting")
        self._unsubscribe = run.subscribe(self._on_event)
        # A run can be settled before the panel exists (a question already pending, a cancelled key).
        if run.pending is not None:
            self._on_question(run.pending)

    # --- display ---------------------------------------------------------------------------------

    def display(self) -> str:
        """Show the panel in the current cell; returns the display id the report will replace."""
        self.display_id = uuid.uuid4().hex
        publish(self.root, self.display_id, update=False)
        return self.display_id

    def replace_with(self, bundle: dict[str, Any]) -> None:
        """Put ``bundle`` (a MIME bundle) where the panel was, also after its cell ended."""
        if self.display_id is not None:
            publish(bundle, self.display_id, update=True)

    def close(self) -> None:
        """Stop listening and close every widget (and its layout/style), so no widget state is left."""
        if self.closed:
            return
        self.stream.stop()
        self.closed = True
        self._unsubscribe()
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
            self._on_chunk(event.chunk)
        elif isinstance(event, MalformedChunkReceived):
            self._append("malformed", "Unreadable chunks", f"[unreadable chunk: {event.malformed.reason}]\n")
            self._update_progress(None)
        elif isinstance(event, HitlRequested):
            self._on_question(event.request)
        elif isinstance(event, AnswerSubmitted):
            self._round += 1
            self.hitl.hide()
            self._set_message("")

    def _on_chunk(self, chunk: Chunk) -> None:
        event = chunk.event
        if chunk.agent in _PAYLOAD_AGENTS and event in ("message", "done"):
            self._on_payload(chunk)
        elif event == "message" and chunk.content:
            key, title = self._group_for(chunk)
            self._append(key, title, chunk.content)
        elif event == "user_input_ended" and chunk.content:
            key, title = self._group_for(chunk)
            self._append(key, title, chunk.content.strip() + "\n")
        self._update_progress(chunk)

    def _on_payload(self, chunk: Chunk) -> None:
        parts = self._payloads.setdefault(chunk.message_id, [])
        if chunk.event == "message":
            parts.append(chunk.content)
            return
        text = "".join(self._payloads.pop(chunk.message_id, parts))
        if text:
            key, title = self._group_for(chunk)
            self._append(key, title, _summarise_payload(chunk.agent, text) + "\n")

    def _on_state(self, state: RunState) -> None:
        self._show_state(state)
        if state.terminal:
            self.hitl.hide()
            self.cancel_button.disabled = True
            self.cancel_button.description = state.value.capitalize()
            self._update_progress(None)
            self.stream.set_progress(stage=_final_stage(state))
            self.stream.set_elapsed(self.run.elapsed_s, live=False)
            if state is RunState.FAILED:
                self._set_message(self.run.error or "The run failed.", error=True)
            elif state is RunState.CANCELLED:
                self._set_message(f"Cancelled: {self.run.cancel_reason or 'the run was stopped'}.")
            else:
                self._set_message("")
            self.stream.flush()
        elif state is RunState.RUNNING:
            self.stream.set_elapsed(self.run.elapsed_s, live=True)

    def _on_question(self, request: HitlRequest) -> None:
        self._show_outline()
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
        outline = self.run.progress.outline
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
        progress = self.run.progress
        new_sources = progress.sources[self._source_count :]
        for source in new_sources:
            self.stream.add_source(source.index, source.title, source.url)
        self._source_count = len(progress.sources)
        total = progress.sections_total
        section = ""
        if chunk is not None and chunk.agent in _SECTION_AGENTS and chunk.section_idx not in ("", "0"):
            section = f"section {chunk.section_idx} of {total}" if total else f"section {chunk.section_idx}"
        elif total and progress.sections_done:
            section = f"{len(progress.sections_done)} of {total} sections done"
        count = len(progress.sources)
        fields = {
            "stage": progress.stage if progress.agent else "starting",
            "sources": f"{count} source{'s' if count != 1 else ''} found" if count else "",
            "note": f"{progress.malformed} unreadable chunk(s)" if progress.malformed else "",
        }
        if section:
            fields["section"] = section
        self.stream.set_progress(**fields)
        self.stream.set_elapsed(self.run.elapsed_s, live=not self.run.state.terminal)
        if progress.outline is not None and progress.outline is not self._outline_shown:
            self._show_outline()

    def _show_outline(self) -> None:
        outline = self.run.progress.outline
        if outline is None or outline is self._outline_shown:
            return
        self._outline_shown = outline
        self.outline.value = _outline_html(outline)
        self.outline.layout.display = ""

    def _show_state(self, state: RunState) -> None:
        self._status_text = state.value
        self.status.value = _badge(state)

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
        self.cancel_button.disabled = True
        self.cancel_button.description = "Stopping..."
        self._call_soon(self._cancel_on_loop)

    def _cancel_on_loop(self) -> None:
        if self.closed:
            return
        self.root.add_class("deepsearch-stopping")
        self.hitl.hide()
        self.stream.set_progress(stage="stopping")
        if not self.run.state.terminal:
            self._set_message("Stopping the run...")
        try:
            self.run.cancel()
        except Exception as exc:  # the cancel request itself failed: say so, let the user retry
            _log.exception("cancelling %s failed", self.run.key)
            self.stopping = False
            self.cancel_button.disabled = False
            self.cancel_button.description = "Cancel"
            self._set_message(f"Could not cancel the run: {exc}. Try again.", error=True)

    def _hitl_action(self, action: HitlAction, text: str) -> None:
        if action == "cancel":
            self._cancel_clicked()
            return
        self._call_soon(lambda: self._answer_on_loop(action, text))

    def _answer_on_loop(self, action: HitlAction, text: str) -> None:
        request = self.run.pending
        if self.closed or self.stopping or request is None:
            return
        try:
            answer = _answer_for(action, text)
            self.hitl.set_busy(True)
            self.run.submit(answer)
        except DeepSearchError as exc:  # bad outline JSON, empty revision, run no longer waiting...
            self.hitl.set_busy(False)
            self.hitl.show_error(str(exc))
        except Exception as exc:
            _log.exception("sending an answer to %s failed", self.run.key)
            self.hitl.set_busy(False)
            self.hitl.show_error(f"Unexpected error: {type(exc).__name__}: {exc}")
        else:
            self.hitl.set_busy(False)

    def _call_soon(self, fn: Any) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(fn)


def publish(obj: Any, display_id: str, *, update: bool) -> None:
    """Display ``obj`` under ``display_id``, or replace what is shown there (a raw MIME bundle).

    The one place the panel talks to IPython's display system; tests swap it to see what a cell shows.
    """
    shown = ipython_display()
    if update:
        shown.update_display(obj, display_id=display_id, raw=True)
    else:
        shown.display(obj, display_id=display_id)


def ipython_display() -> Any:
    """``IPython.display`` (imported on use: the panel module also loads where IPython is absent)."""
    import IPython.display

    return IPython.display


def _answer_for(action: HitlAction, text: str) -> HitlAnswer:
    if action == "accept":
        return HitlAnswer.accept()
    if action == "revise":
        return HitlAnswer.revise(text)
    if action == "replace":
        return HitlAnswer.replace_outline(text)
    return HitlAnswer.answer(text)


def _badge(state: RunState) -> str:
    """The status badge: its text is exactly the state name (browser tests compare it)."""
    return (
        f'<span class="deepsearch-badge deepsearch-tone-{_TONES[state]}" role="status" aria-live="polite" '
        f'aria-label="Run status">{state.value}</span>'
    )


def _final_stage(state: RunState) -> str:
    return {RunState.COMPLETED: "done", RunState.CANCELLED: "cancelled", RunState.FAILED: "failed"}.get(
        state, state.value.lower()
    )


def _outline_html(outline: Outline) -> str:
    items = []
    for section in outline.sections:
        item = f'<li><span class="deepsearch-panel-outline-section">{html.escape(section.title)}</span>'
        if section.description:
            item += f' <span class="deepsearch-panel-outline-description">- {html.escape(section.description)}</span>'
        items.append(item + "</li>")
    title = html.escape(outline.title or "Outline")
    count = len(outline.sections)
    return (
        f'<details open><summary class="deepsearch-panel-outline-title">Outline: {title} '
        f"({count} section{'s' if count != 1 else ''})</summary>"
        f'<ol class="deepsearch-panel-outline-sections">{"".join(items)}</ol></details>'
    )


def _summarise_payload(agent: str, text: str) -> str:
    """One readable line for an outline or plan JSON (the raw text if it is not what we expect)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    title = str(data.get("title") or "")
    if agent == "outline":
        sections = [str(s.get("title", "")) for s in data.get("sections", []) if isinstance(s, dict)]
        return f"Outline \u201c{title}\u201d: {len(sections)} sections ({'; '.join(sections)})"
    steps = [
        str(step.get("title") or step.get("description") or "")
        for step in data.get("steps", [])
        if isinstance(step, dict)
    ]
    thought = str(data.get("thought") or "").strip()
    line = f"Plan \u201c{title}\u201d" + (f": {'; '.join(s for s in steps if s)}" if steps else "")
    return line + (f" \u2014 {thought}" if thought else "")

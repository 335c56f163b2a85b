"""The panel's step controls: the "Step through" toggle, and at a step pause what the stage produced with
Continue, the edit that fits the stage, Run to end and Fork from here (Cancel is the panel's one Cancel).

Kept out of the panel module on purpose (the panel only makes a :class:`StepBar` and hands it the step
pauses). Widgets are built once (source checkboxes are pooled), so their comm ids stay stable and a test
can click them through the kernel protocol. Clicks may arrive on a kernel subshell thread: values are read
where the click arrives and the answer is sent from the run's loop.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .._errors import DeepSearchError
from .._protocol import HitlAnswer, HitlRequest, HitlStage
from .._protocol._step import StepAction, StepKind, StepPoint
from .._secrets import log_failure
from ..runtime import Run

__all__ = ["StepBar"]

_log = logging.getLogger("deepsearch_nb.ui")

_EDIT_LABEL = {
    StepKind.PLAN: ("Save plan", "Use the title, description and focus terms above for this section"),
    StepKind.SOURCES: ("Drop unticked sources", "Leave the unticked sources out before the section is written"),
    StepKind.SECTION: ("Rewrite section", "Write the section again following the instructions above"),
}


def _button(label: str, tooltip: str, css: str, style: str = "") -> widgets.Button:
    button = widgets.Button(description=label, tooltip=tooltip, button_style=style, layout=widgets.Layout(width="auto"))
    button.add_class(css)
    return button


def _point_html(point: StepPoint) -> str:
    head = f"<b>Step: {html.escape(point.label)}</b>"
    if point.title:
        head += f" &mdash; {html.escape(point.title)}"
    body = ""
    if point.kind is StepKind.PLAN:
        body = f"<div>{html.escape(point.description)}</div>"
        if point.focus:
            body += f"<div>Focus: {html.escape(', '.join(point.focus))}</div>"
    elif point.kind is StepKind.SOURCES:
        body = f"<div>{len(point.sources)} source(s) gathered; untick the ones to leave out.</div>"
    elif point.text:
        body = f"<pre class='deepsearch-step-text'>{html.escape(point.text)}</pre>"
    return f"<div class='deepsearch-step-point'>{head}{body}</div>"


class StepBar:
    """Owns the step widgets of one panel; ``fork`` is called (on the loop) for "Fork from here"."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.on_fork: Callable[[], Any] | None = None  # set by the research handle that owns the panel
        self.point: StepPoint | None = None
        self.toggle = widgets.ToggleButton(
            value=run.step, description="Step through", tooltip="Pause at every stage of the research"
        )
        self.toggle.add_class("deepsearch-step-toggle")
        self.toggle.observe(self._toggled, names="value")
        self.info = widgets.HTML(value="")
        self.info.add_class("deepsearch-step-info")

        # continuous_update off: one value message when the field is left (or Ctrl+Enter commits it), so it
        # cannot be held back by ipywidgets' throttle behind the click that sends the edit.
        def wide() -> dict[str, Any]:
            return {"layout": widgets.Layout(width="100%"), "continuous_update": False}  # a layout each

        self.title = widgets.Text(value="", description="Title", **wide())
        self.description = widgets.Textarea(value="", description="Plan", **wide())
        self.focus = widgets.Text(value="", description="Focus", **wide())
        self.instructions = widgets.Textarea(
            value="",
            description="Instructions",
            placeholder="How to write this section again (its words lead the choice of sentences)",
            **wide(),
        )
        self.checks: list[widgets.Checkbox] = []
        self.check_box = widgets.VBox([])
        self.error = widgets.HTML(value="")
        self.error.add_class("deepsearch-step-error")
        self.buttons: dict[str, widgets.Button] = {
            "continue": _button(
                "Continue", "Go on to the next stage (Ctrl+Enter)", "deepsearch-step-continue", "primary"
            ),
            "edit": _button("Apply edit", "", "deepsearch-step-edit"),
            "run_to_end": _button("Run to end", "Leave step mode and run to the end", "deepsearch-step-run-to-end"),
            "fork": _button(
                "Fork from here", "Start a second run that shares everything so far", "deepsearch-step-fork"
            ),
        }
        for name, button in self.buttons.items():
            button.on_click(self._handler(name))
        self.forks = widgets.Output()  # the panels of runs forked from here
        self.button_row = widgets.HBox(list(self.buttons.values()))
        self.pause_box = widgets.VBox(
            [
                self.info,
                self.title,
                self.description,
                self.focus,
                self.check_box,
                self.instructions,
                self.error,
                self.button_row,
            ],
            layout=widgets.Layout(display="none"),
        )
        self.pause_box.add_class("deepsearch-step")
        self.box = widgets.VBox([self.toggle, self.pause_box, self.forks])

    # --- driven by the panel (on the loop) -----------------------------------------------------------

    def show(self, request: HitlRequest) -> bool:
        """Show a step pause; False when ``request`` is an agent's own question (the HITL box's)."""
        if request.stage is not HitlStage.STEP or request.step is None:
            return False
        point = self.point = request.step
        self.error.value = ""
        plan = point.kind is StepKind.PLAN and "edit_plan" in point.edits
        for field, value in ((self.title, point.title), (self.description, point.description)):
            field.value = value if plan else ""
            field.layout.display = "" if plan else "none"
        self.focus.value = ", ".join(point.focus) if plan else ""
        self.focus.layout.display = "" if plan else "none"
        gate = point.kind is StepKind.SOURCES and "drop_sources" in point.edits
        while gate and len(self.checks) < len(point.sources):
            self.checks.append(widgets.Checkbox(value=True, indent=False, layout=widgets.Layout(width="100%")))
        for i, check in enumerate(self.checks):
            shown = gate and i < len(point.sources)
            if shown:
                source = point.sources[i]
                check.description = f"[{i + 1}] {source.title} ({source.where}): {source.passage[:160]}"
                check.value = True
            check.layout.display = "" if shown else "none"
        self.check_box.children = tuple(self.checks)
        rewrite = point.kind is StepKind.SECTION and "rewrite" in point.edits
        self.instructions.value = ""
        self.instructions.layout.display = "" if rewrite else "none"
        label = _EDIT_LABEL.get(point.kind)
        editable = plan or gate or rewrite
        self.buttons["edit"].layout.display = "" if editable and label else "none"
        if label:
            self.buttons["edit"].description, self.buttons["edit"].tooltip = label
        self.buttons["fork"].layout.display = "" if self.on_fork is not None else "none"
        for button in self.buttons.values():
            button.disabled = False
        self.pause_box.layout.display = ""
        # The pause's label last: the browser focuses Continue when the bar shows or the label changes, so
        # by the time the new label is seen, Continue is enabled, shown and focused.
        self.info.value = _point_html(point)
        return True

    def hide(self) -> None:
        self.point = None
        self.pause_box.layout.display = "none"

    def widgets(self) -> list[widgets.Widget]:
        fields = [self.info, self.title, self.description, self.focus, self.instructions, self.check_box, self.error]
        return [
            self.box,
            self.toggle,
            self.pause_box,
            *fields,
            *self.checks,
            self.forks,
            self.button_row,
            *self.buttons.values(),
        ]

    def widget_ids(self) -> dict[str, str]:
        ids = {f"step_{name}": button.model_id for name, button in self.buttons.items()}
        ids.update(
            step_toggle=self.toggle.model_id,
            step_title=self.title.model_id,
            step_description=self.description.model_id,
            step_focus=self.focus.model_id,
            step_instructions=self.instructions.model_id,
        )
        ids.update({f"step_source_{i + 1}": check.model_id for i, check in enumerate(self.checks)})
        return ids

    # --- clicks (any thread) -------------------------------------------------------------------------

    def _toggled(self, change: dict[str, Any]) -> None:
        value = bool(change.get("new"))
        if value != self.run.step:
            self._soon(lambda: self.run.set_step(value))

    def _handler(self, name: str) -> Callable[[Any], None]:
        def clicked(_button: Any) -> None:
            if name == "fork":
                self._soon(self._fork)
            else:
                action = self._action(name)
                if action is not None:
                    self._soon(lambda: self._send(action))

        return clicked

    def _fork(self) -> None:
        """Start the fork with its panel shown under this bar (the click's output has no cell of its own)."""
        if self.on_fork is None:
            return
        try:
            with self.forks:
                self.on_fork()
        except DeepSearchError as exc:
            self.error.value = f"<span>Fork failed: {html.escape(str(exc))}</span>"
        except Exception as exc:
            log_failure(_log, f"forking {self.run.key} failed", exc, self.run.secrets)
            self.error.value = f"<span>Fork failed: {html.escape(type(exc).__name__)}</span>"

    def _action(self, name: str) -> StepAction | None:
        point = self.point
        if name == "continue":
            return StepAction()
        if name == "run_to_end":
            return StepAction(action="run_to_end")
        if point is None:
            return None
        if point.kind is StepKind.PLAN:
            focus = [f.strip() for f in self.focus.value.split(",") if f.strip()]
            return StepAction(
                action="edit_plan", title=self.title.value, description=self.description.value, focus=focus
            )
        if point.kind is StepKind.SOURCES:
            drop = [s.url for s, c in zip(point.sources, self.checks, strict=False) if not c.value]
            return StepAction(action="drop_sources", drop=drop)
        return StepAction(action="rewrite", instructions=self.instructions.value)

    def _send(self, action: StepAction) -> None:
        if self.run.pending is None or self.run.pending.stage is not HitlStage.STEP:
            return
        try:
            for button in self.buttons.values():
                button.disabled = True
            self.run.submit(HitlAnswer.step(action))
        except DeepSearchError as exc:  # an edit that does not fit, the run no longer waiting...
            for button in self.buttons.values():
                button.disabled = False
            self.error.value = f"<span>{html.escape(str(exc))}</span>"

    def _soon(self, fn: Callable[[], Any]) -> None:
        loop = self.run.loop
        if not loop.is_closed():
            loop.call_soon_threadsafe(fn)

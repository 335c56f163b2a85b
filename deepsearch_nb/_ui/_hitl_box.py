"""The question box a waiting run shows: the agent's questions (or a pointer to the outline), a text area,
and the buttons that fit the stage.

One primary action per stop (Send answer; Accept), secondary actions drawn as outlined buttons, and the
JSON tools (Edit outline as JSON, Replace outline) folded under "Advanced" so they do not compete with the
main actions. There is no Cancel here: the panel's header has the one Cancel button. Every control has an
accessible name (``tooltip`` becomes ``title``; the stream view's script copies it to ``aria-label``), and
the keyboard path (focus lands in the text area, Ctrl+Enter sends, Escape leaves) is the stream view's.

The widgets are built once and reconfigured per question (buttons hidden or shown), so their comm ids stay
stable for the whole run: a test, or a front-end script, can find them once. Clicks may arrive on a kernel
subshell thread. In the browser the stream view's script takes every click on an answer button and sends
the action with the text area's text in one message (a click that left the text to the kernel could overtake
the last keystrokes' value update); a click that reaches the kernel as a plain button click (another front
end, a test) reads the text where it arrives. Either way ``(action, text)`` goes to the panel, which moves to
the event loop.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, Literal

import ipywidgets as widgets

from .._protocol import HitlRequest, HitlStage

__all__ = ["HitlAction", "HitlBox"]

HitlAction = Literal["send", "accept", "revise", "replace"]
"""What a button of the box sends. Ctrl+Enter (the stream view's script) presses Send or Revise when the text
area holds text, else Accept (or Send where there is no Accept)."""

_STAGE_ACTIONS: dict[HitlStage, tuple[HitlAction, ...]] = {
    HitlStage.CLARIFICATION: ("send",),
    HitlStage.OUTLINE_REVIEW: ("accept", "revise", "replace"),
    HitlStage.REPORT_FEEDBACK: ("send", "accept"),
}


_PLACEHOLDERS = {
    HitlStage.CLARIFICATION: "Your answer (empty lets the agent go on). Ctrl+Enter sends, Escape leaves the box.",
    HitlStage.OUTLINE_REVIEW: (
        "Revise: say what to change (e.g. 'add a section on costs').\n"
        "Or, under Advanced, edit the outline as JSON and replace it. Ctrl+Enter accepts (or revises, with text)."
    ),
    HitlStage.REPORT_FEEDBACK: "Your feedback on the report (or Accept to finish).",
}


def _button(label: str, tooltip: str, css: list[str], style: str = "") -> widgets.Button:
    button = widgets.Button(description=label, tooltip=tooltip, button_style=style, layout=widgets.Layout(width="auto"))
    for name in (*css, "deepsearch-primary" if style else "deepsearch-secondary"):
        button.add_class(name)
    return button


class HitlBox:
    """Owns the HITL widgets; ``on_action(action, text)`` is called from whatever thread clicked."""

    def __init__(self, on_action: Callable[[HitlAction, str], None]) -> None:
        self._on_action = on_action
        self.request: HitlRequest | None = None
        self.prompt = widgets.HTML(value="")
        self.prompt.add_class("deepsearch-hitl-prompt")
        self.input = widgets.Textarea(
            value="",
            placeholder=_PLACEHOLDERS[HitlStage.CLARIFICATION],
            description="Answer",
            description_allow_html=False,
            tooltip="Your answer to the agent",
            layout=widgets.Layout(width="100%"),
        )
        self.input.add_class("deepsearch-hitl-input")
        self.error = widgets.HTML(value="")
        self.error.add_class("deepsearch-hitl-error")
        self.buttons: dict[HitlAction, widgets.Button] = {
            "send": _button(
                "Send answer",
                "Send the text above to the agent",
                ["deepsearch-hitl-submit", "deepsearch-hitl-send"],
                "primary",
            ),
            "accept": _button("Accept", "Accept the outline and start writing", ["deepsearch-hitl-accept"], "primary"),
            "revise": _button(
                "Revise",
                "Ask for a new outline; the text above says what to change",
                ["deepsearch-hitl-submit", "deepsearch-hitl-revise"],
            ),
            "replace": _button(
                "Replace outline with this JSON",
                "Use the outline JSON in the text above instead of the agent's",
                ["deepsearch-hitl-replace"],
            ),
        }
        self.edit_json = _button(
            "Edit outline as JSON",
            "Put the current outline in the text area as JSON, to edit it and replace the outline",
            ["deepsearch-hitl-edit-json"],
        )
        self.edit_json.on_click(self._fill_outline_json)
        for action, button in self.buttons.items():
            button.on_click(self._handler(action))
        main = [self.buttons[a] for a in ("send", "accept", "revise")]
        self.button_row = widgets.HBox(main)
        self.button_row.add_class("deepsearch-hitl-buttons")
        self.json_row = widgets.HBox([self.edit_json, self.buttons["replace"]])
        self.json_row.add_class("deepsearch-hitl-buttons")
        self.advanced = widgets.Accordion(children=[self.json_row], titles=("Advanced: the outline as JSON",))
        self.advanced.selected_index = None
        self.advanced.add_class("deepsearch-hitl-advanced")
        self.box = widgets.VBox(
            [self.prompt, self.input, self.error, self.button_row, self.advanced], layout=widgets.Layout(display="none")
        )
        self.box.add_class("deepsearch-hitl")

    # --- driven by the panel (on the loop) ---------------------------------------------------------

    def show(self, request: HitlRequest) -> None:
        """Configure for ``request`` and make the box visible."""
        self.request = request
        stage = request.stage
        self.prompt.value = _prompt_html(request)
        self.input.value = ""
        self.input.placeholder = _PLACEHOLDERS.get(stage, "")
        self.input.description = "Answer" if stage == HitlStage.CLARIFICATION else "Feedback"
        self.input.disabled = False
        self.error.value = ""
        visible = _STAGE_ACTIONS.get(stage, ("send",))
        for action, button in self.buttons.items():
            button.disabled = False
            button.layout.display = "" if action in visible else "none"
        review = stage == HitlStage.OUTLINE_REVIEW
        self.edit_json.layout.display = "" if review else "none"
        self.advanced.layout.display = "" if review else "none"
        self.advanced.selected_index = None
        self.box.layout.display = ""

    def hide(self) -> None:
        self.request = None
        self.box.layout.display = "none"

    def set_busy(self, busy: bool) -> None:
        """Disable the controls while an answer is being handed over (no double submits)."""
        self.input.disabled = busy
        for button in (*self.buttons.values(), self.edit_json):
            button.disabled = busy

    def show_error(self, message: str) -> None:
        """Keep the box open with a message the user can act on."""
        self.error.value = (
            f'<p class="deepsearch-panel-error" role="alert"><strong>Not sent:</strong> {html.escape(message)}</p>'
        )

    def refused(self, text: str, message: str) -> None:
        """An answer was not taken: the box is usable again, says why and holds the text that was sent
        (the browser empties the box when it sends, so nothing typed is lost to a refusal)."""
        self.set_busy(False)
        self.input.value = text
        self.show_error(message)

    @property
    def visible(self) -> bool:
        return bool(self.box.layout.display != "none")

    def widgets(self) -> list[widgets.Widget]:
        """Every widget of the box (to close them all)."""
        return [
            self.box,
            self.prompt,
            self.input,
            self.error,
            self.button_row,
            self.json_row,
            self.advanced,
            self.edit_json,
            *self.buttons.values(),
        ]

    # --- clicks (any thread) -----------------------------------------------------------------------

    def _handler(self, action: HitlAction) -> Callable[[Any], None]:
        def clicked(_button: Any) -> None:
            self._on_action(action, str(self.input.value))

        return clicked

    def _fill_outline_json(self, _button: Any) -> None:
        request = self.request
        if request is not None and request.outline is not None:
            self.input.value = request.outline.model_dump_json(indent=2)


def _prompt_html(request: HitlRequest) -> str:
    stage = request.stage
    if stage == HitlStage.CLARIFICATION:
        questions = request.questions.strip() or request.prompt.strip()
        return (
            '<p><strong>The agent asks:</strong></p><div class="deepsearch-hitl-questions">'
            f"{html.escape(questions)}</div>"
        )
    if stage == HitlStage.OUTLINE_REVIEW:
        round_note = f" (round {request.round})" if request.round else ""
        return (
            f"<p><strong>Review the outline above{round_note}.</strong> Accept it, or say what to change "
            "and Revise.</p>"
        )
    return f"<p><strong>The agent asks for feedback:</strong> {html.escape(request.prompt.strip())}</p>"

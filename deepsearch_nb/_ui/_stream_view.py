"""The live part of the panel: progress, elapsed time, the stream by stage, the sources found.

Why an anywidget and custom messages instead of a growing ``HTML.value``: assigning a growing string
resends all of it (1,002x the text for a 100 KB report, and jupyter-server drops IOPub above 1000 msg/s).
Here the kernel sends only what is new, coalesced: at most one message per ``interval`` (80 ms: at most
~12 messages/s and never more than ~0.1 s behind), and only when something changed. Progress and elapsed
time travel in the same message; the browser ticks the clock itself between messages.

A flood (an agent yielding as fast as it can) piles up hundreds of KB of text between two messages, and
serialising it all at once would hold the kernel's loop for milliseconds (timers, clicks wait; ``bench
loop``): the timer's flush sends at most ``MAX_TEXT`` characters and sends the rest on the loop's next
passes, one message each. Pending text is kept as parts and joined once when sent (merging into one
growing string copied it all again at every chunk).

All methods are called on the run's event loop (the panel marshals clicks from other threads).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import anywidget
import traitlets

__all__ = ["FLUSH_INTERVAL_S", "MAX_TEXT", "StreamView"]

FLUSH_INTERVAL_S = 0.08
"""Minimum time between two stream messages: about 12 messages/s at most, lag under 0.1 s."""
MAX_TEXT = 65_536
"""Most characters of text one timed message carries (a larger backlog goes on in the next loop passes)."""

_HERE = Path(__file__).parent
KeyAction = Literal["send", "accept", "revise", "replace"]
"""What the browser may send from the question box with its text: Ctrl+Enter sends, accepts or revises; a
click on any of the box's answer buttons sends that button's action."""
_KEY_ACTIONS: dict[str, KeyAction] = {"send": "send", "accept": "accept", "revise": "revise", "replace": "replace"}
_Send = Callable[[dict[str, Any]], None]


class StreamView(anywidget.AnyWidget):
    """Receives deltas only; keeps the whole text so a new browser model can get one snapshot."""

    _esm = (_HERE / "_stream_view.js").read_text(encoding="utf-8")
    _css = (_HERE / "_panel.css").read_text(encoding="utf-8")
    uid = traitlets.Unicode("").tag(sync=True)

    def __init__(self, loop: asyncio.AbstractEventLoop, *, interval: float = FLUSH_INTERVAL_S) -> None:
        super().__init__(uid=uuid.uuid4().hex)
        self.add_class("deepsearch-stream-view")
        self._loop = loop
        self._interval = interval
        self._serial = -1
        self._groups: dict[str, tuple[str, list[str]]] = {}  # id -> (title, text parts)
        self._sources: list[list[Any]] = []
        self._progress: dict[str, str] = {}
        self._elapsed = 0
        self._live = True
        # What the next message will carry.
        self._new_groups: list[list[str]] = []
        self._appends: list[tuple[str, list[str]]] = []  # (group id, text parts), in order
        self._new_sources: list[list[Any]] = []
        self._dropped: list[str] = []
        self._new_progress: dict[str, str] = {}
        self._new_elapsed: int | None = None
        self._new_live: bool | None = None
        self._timer: asyncio.Handle | None = None
        self._last_send = -1e9
        self._view_callbacks: list[Callable[[], None]] = []
        self._hitl_callbacks: list[Callable[[KeyAction, str], None]] = []
        self._sent_at: list[float] = []  # perf_counter of each delta message (benchmark, tests)
        self.views_seen = 0  # how many browser views reported themselves
        self.on_msg(self._on_frontend_msg)

    # --- what the panel tells it -----------------------------------------------------------------

    def add_group(self, group_id: str, title: str) -> None:
        if group_id in self._groups:
            return
        self._groups[group_id] = (title, [])
        self._new_groups.append([group_id, title])
        self._schedule()

    def append(self, group_id: str, text: str) -> None:
        """Add text to a group (created with :meth:`add_group`); merged with the previous append."""
        if not text or group_id not in self._groups:
            return
        self._groups[group_id][1].append(text)
        if self._appends and self._appends[-1][0] == group_id:
            self._appends[-1][1].append(text)
        else:
            self._appends.append((group_id, [text]))
        self._schedule()

    def drop_group(self, group_id: str) -> None:
        """Remove a group from the stream: what it said is now shown elsewhere (the questions in the box)."""
        if self._groups.pop(group_id, None) is None:
            return
        self._new_groups = [g for g in self._new_groups if g[0] != group_id]
        self._appends = [a for a in self._appends if a[0] != group_id]
        self._dropped.append(group_id)
        self._schedule()

    def add_source(self, index: int, title: str, url: str) -> None:
        entry: list[Any] = [index, title, url]
        self._sources.append(entry)
        self._new_sources.append(entry)
        self._schedule()

    def set_progress(self, **fields: str) -> None:
        """Update progress fields (``stage``, ``section``, ``sources``, ``note``); only changes are sent."""
        for key, value in fields.items():
            if self._progress.get(key) != value:
                self._progress[key] = value
                self._new_progress[key] = value
        if self._new_progress:
            self._schedule()

    def set_elapsed(self, seconds: float, *, live: bool) -> None:
        """Whole seconds only: the browser ticks the clock between messages, so this rarely sends."""
        whole = int(seconds)
        if whole != self._elapsed:
            self._elapsed = whole
            self._new_elapsed = whole
        if live != self._live:
            self._live = live
            self._new_live = live
            self._new_elapsed = whole
        if self._new_elapsed is not None or self._new_live is not None:
            self._schedule()

    def on_hitl(self, callback: Callable[[KeyAction, str], None]) -> None:
        """Call ``callback(action, text)`` (on the thread the message arrived on) for an answer sent from
        the browser (Ctrl+Enter, or a click on an answer button): the text comes with the action, so no
        keystroke can be lost."""
        self._hitl_callbacks.append(callback)

    def on_view(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the loop) when a browser view reports that it is showing the panel."""
        self._view_callbacks.append(callback)

    @property
    def text(self) -> dict[str, str]:
        """Every group's text so far, by group id."""
        return {gid: "".join(parts) for gid, (_, parts) in self._groups.items()}

    @property
    def message_times(self) -> list[float]:
        return list(self._sent_at)

    # --- sending ---------------------------------------------------------------------------------

    @property
    def _dirty(self) -> bool:
        return bool(
            self._new_groups
            or self._appends
            or self._dropped
            or self._new_sources
            or self._new_progress
            or self._new_elapsed is not None
            or self._new_live is not None
        )

    def _schedule(self) -> None:
        if self._timer is not None or self.comm is None:
            return
        delay = max(0.0, self._last_send + self._interval - time.perf_counter())
        self._timer = self._loop.call_later(delay, self._flush_timed)

    def flush(self) -> None:
        """Send everything pending now (one message, or several when a flood left much text behind)."""
        while self._send_pending(None):
            pass

    def _flush_timed(self) -> None:
        """The timer's flush: one message of at most ``MAX_TEXT`` characters, the rest on the next pass."""
        if self._send_pending(MAX_TEXT) and self._timer is None:
            self._timer = self._loop.call_soon(self._flush_timed)

    def _send_pending(self, max_text: int | None) -> bool:
        """Send one message of what is pending; True when text was left for another (``max_text``)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._dirty or self.comm is None:
            return False
        self._serial += 1
        msg: dict[str, Any] = {"n": self._serial}
        if self._new_groups:
            msg["g"] = self._new_groups
        appends, rest = _take_text(self._appends, max_text)
        if appends:
            msg["a"] = appends
        if self._dropped:
            msg["d"] = self._dropped
        if self._new_sources:
            msg["s"] = self._new_sources
        if self._new_progress:
            msg["p"] = self._new_progress
        if self._new_elapsed is not None:
            msg["el"] = self._new_elapsed
        if self._new_live is not None:
            msg["live"] = self._new_live
        self._new_groups, self._appends, self._new_sources, self._dropped = [], rest, [], []
        self._new_progress, self._new_elapsed, self._new_live = {}, None, None
        self._last_send = time.perf_counter()
        self._sent_at.append(self._last_send)
        self.send(msg)
        return bool(rest)

    def snapshot(self) -> dict[str, Any]:
        """Everything sent so far, as one message a late browser model can start from."""
        return {
            "snap": True,
            "n": self._serial,
            "g": [[gid, title] for gid, (title, _) in self._groups.items()],
            "a": [[gid, "".join(parts)] for gid, (_, parts) in self._groups.items() if parts],
            "s": list(self._sources),
            "p": dict(self._progress),
            "el": self._elapsed,
            "live": self._live,
        }

    def stop(self) -> None:
        """Final flush and no more timers (before the panel closes its widgets)."""
        self.flush()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- the browser's messages ------------------------------------------------------------------

    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        # May run on a kernel subshell thread (JupyterLab routes comms there): hand over to the loop.
        if not isinstance(content, dict):
            return
        event = content.get("event")
        if event == "hello":
            seen = content.get("n", -1)
            self._call_soon(lambda: self._answer_hello(seen if isinstance(seen, int) else -1))
        elif event == "view":
            self._call_soon(self._view_seen)
        elif event == "hitl":
            action, text = _KEY_ACTIONS.get(str(content.get("action"))), content.get("text")
            if action is not None and isinstance(text, str):
                for callback in tuple(self._hitl_callbacks):
                    callback(action, text)

    def _call_soon(self, fn: Callable[[], None]) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(fn)

    def _answer_hello(self, seen: int) -> None:
        self.flush()  # so the snapshot and the serial agree
        if self._serial > seen and self.comm is not None:
            self.send(self.snapshot())

    def _view_seen(self) -> None:
        self.views_seen += 1
        for callback in tuple(self._view_callbacks):
            callback()


def _take_text(
    appends: list[tuple[str, list[str]]], max_text: int | None
) -> tuple[list[list[str]], list[tuple[str, list[str]]]]:
    """The ``[group id, text]`` pairs of one message (at most ``max_text`` characters), and what is left."""
    out: list[list[str]] = []
    budget = max_text
    for number, (group_id, parts) in enumerate(appends):
        text = "".join(parts)
        if budget is None or len(text) <= budget:
            out.append([group_id, text])
            if budget is not None:
                budget -= len(text)
            continue
        if budget > 0:
            out.append([group_id, text[:budget]])
        return out, [(group_id, [text[budget:]]), *appends[number + 1 :]]
    return out, []

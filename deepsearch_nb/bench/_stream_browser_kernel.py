"""The kernel side of ``bench stream-browser``: one way of streaming, shown in a cell, fed by a scripted run.

Imported in the notebook's kernel (the bench's cells are a line each). Every way gets the same chunks of
the in-process ``bench stream`` (:func:`~deepsearch_nb.testing.many_chunks`, same envelope and size), each
message's text numbered with a marker ``K00042K`` so the page can tell which chunk reached the screen and
when. Each way is driven as a real run drives it: a :class:`~deepsearch_nb.testing.ScriptedAgent` on the
kernel's loop, chunks ``pace_s`` apart, held at the start until the bench has started watching the page
(:meth:`Way.go`), so no way pays for its first render in its lag. The kernel's ``time.time()`` of each
chunk is recorded as the run hands it over (ours: when the run reports it, as the panel sees it; a peer:
just before its append), and written with the run's outcome to a JSON file for the bench to read (a
file, not a cell output: the server may be dropping IOPub messages at that point, ChatFeed's flood).

* ``ours``: ``deepsearch_nb.research(...)`` with that agent: our panel and its stream view, replaced by
  the report when the run ends, as in a real run.
* ``naive``: ``ipywidgets.HTML``, ``value += chunk``.
* ``panel_md``: Panel ``Markdown(enable_streaming=True)``, ``object += chunk``.
* ``panel_chatfeed``: Panel ``ChatFeed.stream(chunk, message=...)``.

The peers start with a visible ``ready`` so the bench can tell that the output has rendered.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..runtime import ChunkReceived, Run, RunEvent, RunManager
from ..testing import Pause, ScriptedAgent, WaitFor, many_chunks

__all__ = ["READY", "WAYS", "Way", "marked_chunks", "marked_texts", "show"]

WAYS = ("ours", "naive", "panel_md", "panel_chatfeed")
READY = "ready "
"""What a peer shows before the stream (the bench waits for it: the output has rendered)."""


def marked_texts(count: int, size: int) -> list[str]:
    """The text of each of ``count`` chunks of ``size`` characters: the stream benchmark's text with its
    number in front (``K00042K``) and a space at the end (words of two chunks never run together)."""
    base = json.loads(many_chunks(1, size)[0])["content"]
    return [(f"K{i:05d}K " + base)[: size - 1] + " " for i in range(count)]


def marked_chunks(count: int, size: int) -> list[str]:
    """:func:`~deepsearch_nb.testing.many_chunks` (same envelopes, final result, ALL END) with each
    message's text replaced by :func:`marked_texts`."""
    out = many_chunks(count, size)
    for i, text in enumerate(marked_texts(count, size)):
        data = json.loads(out[i])
        data["content"] = text
        out[i] = json.dumps(data)
    return out


@dataclass
class Way:
    """One way, shown in a cell (``view``), streaming when :meth:`go` is called."""

    name: str
    view: Any
    run: Run
    start: asyncio.Event
    sent: list[float] = field(default_factory=list)  # time.time() of each chunk, by number
    close: Callable[[], None] = lambda: None
    handle: Any = None  # ours: the research() handle (its panel)

    def go(self) -> None:
        """Let the agent stream (it waits at the start of its script)."""
        self.start.set()

    def cancel(self) -> None:
        self.run.cancel("the benchmark's timeout")

    async def finish(self, timeout_s: float = 10.0) -> str:
        """Wait up to ``timeout_s`` for the run's end, then cancel it (and wait for that); close the view."""
        try:
            await self.run.wait(timeout_s)
        except TimeoutError:
            self.cancel()
            await self.run.wait(30.0)
        self.close()
        return self.run.state.value

    def result(self, path: str) -> str:
        """Write the chunks' send times and the run's outcome to ``path``; what the cell prints."""
        outcome = {"sent": self.sent, "state": self.run.state.value, "done": self.run.state.terminal}
        Path(path).write_text(json.dumps(outcome), encoding="utf-8")
        return self.run.state.value


def _script(count: int, size: int, pace_s: float, start: asyncio.Event) -> list[Any]:
    script: list[Any] = [WaitFor(start)]
    for item in marked_chunks(count, size):
        if pace_s > 0:
            script.append(Pause(pace_s))
        script.append(item)
    return script


def show(name: str, count: int, size: int, pace_s: float) -> Way:
    """Build way ``name`` and start its run (waiting for :meth:`Way.go`); the cell shows ``way.view``
    (ours: ``research()`` has displayed its panel already, ``view`` is None)."""
    start = asyncio.Event()
    agent = ScriptedAgent(_script(count, size, pace_s, start))
    if name == "ours":
        import deepsearch_nb

        handle = deepsearch_nb.research("bench", agent=agent, transcript=False, conversation_id="bench_ours")
        way = Way(name, None, handle.run, start, handle=handle)
        way.run.subscribe(_recorder(way.sent, None))
        return way
    view, append, close = _peer(name)
    run = RunManager().start(agent, "bench", conversation_id=f"bench_{name}")
    way = Way(name, view, run, start, close=close)
    run.subscribe(_recorder(way.sent, append))
    return way


def _recorder(sent: list[float], append: Callable[[str], None] | None) -> Callable[[RunEvent], None]:
    def on_event(event: RunEvent) -> None:
        if isinstance(event, ChunkReceived) and event.chunk.event == "message" and event.chunk.content:
            sent.append(time.time())
            if append is not None:
                append(event.chunk.content)

    return on_event


def _peer(name: str) -> tuple[Any, Callable[[str], None], Callable[[], None]]:
    if name == "naive":
        import ipywidgets

        html = ipywidgets.HTML(value=READY)

        def add(text: str) -> None:
            html.value += text

        return html, add, html.close
    import panel as pn

    if name == "panel_md":
        pane = pn.pane.Markdown(READY, enable_streaming=True)  # type: ignore[no-untyped-call]

        def add_md(text: str) -> None:
            pane.object += text

        return pane, add_md, lambda: None
    if name == "panel_chatfeed":
        feed = pn.chat.ChatFeed()  # type: ignore[no-untyped-call]
        message = feed.stream(READY, user="DeepSearch")

        def add_chat(text: str) -> None:
            feed.stream(text, message=message)

        return feed, add_chat, lambda: None
    raise ValueError(f"unknown way {name!r}: one of {', '.join(WAYS)}")

"""The stream view's flush under a flood: the kernel's loop is never held by one large message (issue 16).

A flood piles up hundreds of KB of text between two timed messages. Before, the timer's flush serialised
all of it in one message (one pass of the loop: ~1-3 ms per 300 KB with recorded comms, ``bench loop``),
and each ``append`` copied the whole pending text again (a string grown by ``+=`` in a list). Now the timed
flush sends at most ``MAX_TEXT`` characters per pass of the loop and pending text is kept as parts. The
tests count messages, loop passes and concatenations, not milliseconds.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from deepsearch_nb._ui._stream_view import MAX_TEXT, StreamView
from deepsearch_nb.testing import recording_comms
from deepsearch_nb.testing._comms import CommRecorder

TEXT = ("lorem ipsum dolor sit amet " * 2)[:50]
FLOOD = 6_000  # 300,000 characters, appended without a pause


def _texts(recorder: CommRecorder, view: StreamView) -> list[str]:
    """The text each delta message carried, in order."""
    out = []
    for message in recorder.for_comm(view.model_id):
        custom = message.custom
        if isinstance(custom, dict) and "a" in custom and not custom.get("snap"):
            out.append("".join(str(text) for _, text in custom["a"]))
    return out


async def test_a_flood_of_text_goes_in_bounded_messages_one_per_pass_of_the_loop() -> None:
    loop = asyncio.get_running_loop()
    with recording_comms() as recorder:
        view = StreamView(loop, interval=0.01)
        view.add_group("g1", "Section 1")
        passes: list[int] = []  # at each pass of the loop: how many messages had been sent
        done = False

        def turn() -> None:
            passes.append(len(recorder.messages))
            if not done:
                loop.call_soon(turn)

        for _ in range(FLOOD):
            view.append("g1", TEXT)
        loop.call_soon(turn)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not view._dirty:
                break
        done = True
        texts = _texts(recorder, view)
        view.close()
    assert "".join(texts) == TEXT * FLOOD  # every character, in order
    assert max(len(t) for t in texts) <= MAX_TEXT, [len(t) for t in texts]
    assert len(texts) == -(-FLOOD * len(TEXT) // MAX_TEXT)
    # One message per pass: the loop ran other callbacks between two of them.
    sent_per_pass = [b - a for a, b in itertools.pairwise(passes)]
    assert max(sent_per_pass) == 1, sent_per_pass


async def test_flush_sends_everything_pending_at_once() -> None:
    # The panel's own flush (at the end of a run, before a question) must leave nothing for later.
    with recording_comms() as recorder:
        view = StreamView(asyncio.get_running_loop(), interval=0.01)
        view.add_group("g1", "Section 1")
        for _ in range(FLOOD):
            view.append("g1", TEXT)
        view.flush()
        texts = _texts(recorder, view)
        assert not view._dirty
        view.close()
    assert "".join(texts) == TEXT * FLOOD


class _CountingStr(str):
    """A str that counts the concatenations it takes part in."""

    joins = 0

    def __add__(self, other: Any) -> str:
        _CountingStr.joins += 1
        return str.__add__(self, other)

    def __radd__(self, other: Any) -> str:
        _CountingStr.joins += 1
        return str.__add__(other, self)


async def test_pending_text_is_not_copied_again_at_each_append() -> None:
    _CountingStr.joins = 0
    with recording_comms() as recorder:
        view = StreamView(asyncio.get_running_loop(), interval=0.01)
        view.add_group("g1", "Section 1")
        for _ in range(1_000):
            view.append("g1", _CountingStr(TEXT))
        joins = _CountingStr.joins
        view.flush()
        texts = _texts(recorder, view)
        view.close()
    assert joins == 0, f"{joins} concatenations of the pending text for 1,000 appends"
    assert "".join(texts) == TEXT * 1_000

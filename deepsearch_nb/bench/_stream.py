"""What streaming a report into the panel costs on the wire, against the naive ``HTML.value += chunk``.

A 100 KB report arrives as 2,000 chunks of 50 characters, once as fast as the agent can yield them and
once 1 ms apart. The panel's widgets open :class:`~deepsearch_nb._ui._recording.RecordingComm`\\ s, which
serialise every message as ipykernel would (Session header, parent header, metadata, content, signature,
topic) and count its bytes. Counted: every message sent while the run streams (stream deltas, progress,
status, outline...), not the one-time opening and closing of the panel's widgets (shown apart as
``panel_open_bytes``). Lag: for each chunk, from the moment the panel received it to the moment the
message carrying its text was sent. Messages/s: the most messages in any one-second window.

Beside ours, in the same process on the same chunks: the naive ``HTML.value += chunk`` and, when the
``panel`` package is installed (the ``bench`` extra), Panel's streaming Markdown pane and ChatFeed, driven
by a subscriber of the same kind of run (see :mod:`._panel_peers` for how their comms are recorded).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from .._ui._panel import ResearchPanel
from ..runtime import ChunkReceived, RunEvent, RunManager, RunState
from ..testing import Pause, ScriptedAgent, many_chunks
from ..testing._comms import CommRecorder, RecordedMessage, recording_comms
from ._panel_peers import panel_available, panel_bytes
from ._stats import percentile

__all__ = ["LABELS", "run"]

CHUNKS = 2_000
CHUNK_CHARS = 50
REPORT_BYTES = CHUNKS * CHUNK_CHARS

LABELS = {
    "report_bytes": "report size (bytes of text streamed)",
    "stream_bytes_ratio": "bytes sent / report, chunks as fast as possible",
    "stream_bytes_ratio_paced": "bytes sent / report, chunks 1 ms apart",
    "stream_messages": "messages sent, fast",
    "stream_messages_paced": "messages sent, 1 ms apart",
    "stream_msgs_per_s": "most messages in any 1 s window (both runs)",
    "stream_lag_ms_p99": "lag chunk -> message, p99 (ms), 1 ms apart",
    "stream_lag_ms_max": "lag chunk -> message, max (ms), 1 ms apart",
    "stream_lag_ms_p99_fast": "lag p99 (ms), fast (the agent holds the loop the whole time)",
    "stream_text_intact": "every character arrived, in order (1 = yes)",
    "panel_open_bytes": "one-time cost: opening the panel's widgets (bytes)",
    "naive_bytes_ratio": "naive HTML.value += chunk: bytes sent / report",
    "naive_messages": "naive: messages sent",
    "panel_md_bytes_ratio": "Panel Markdown(enable_streaming=True), object += chunk: bytes sent / report, fast",
    "panel_md_bytes_ratio_paced": "the same, chunks 1 ms apart",
    "panel_chatfeed_bytes_ratio": "Panel ChatFeed.stream(chunk, message=...): bytes sent / report, fast",
}


async def _stream(paced: bool) -> dict[str, Any]:
    chunks = many_chunks(CHUNKS, size=CHUNK_CHARS)
    script: list[Any] = []
    for item in chunks:
        if paced:
            script.append(Pause(0.001))
        script.append(item)
    manager = RunManager()
    with recording_comms() as recorder:
        run = manager.start(ScriptedAgent(script), "bench", conversation_id="bench")
        panel = ResearchPanel(run)
        open_bytes = recorder.nbytes
        recorder.clear()
        received: list[tuple[float, int]] = []  # (time, serial of the message that will carry it)

        def on_event(event: RunEvent) -> None:
            if isinstance(event, ChunkReceived) and event.chunk.event == "message":
                received.append((time.perf_counter(), panel.stream._serial + 1))

        run.subscribe(on_event)
        await run.wait()
        await asyncio.sleep(0)  # the terminal state's handlers have flushed
        messages = list(recorder.messages)
        text = "".join(panel.stream.text.values())
        sent = _delivered_text(recorder, panel.stream.model_id)
        panel.close()
        await manager.drain()
    if run.state is not RunState.COMPLETED:
        raise RuntimeError(f"the benchmark run ended {run.state.value}: {run.error}")
    times = panel.stream.message_times
    lags = [(times[serial] - t) * 1000 for t, serial in received if serial < len(times)]
    return {
        "bytes": sum(m.nbytes for m in messages),
        "messages": len(messages),
        "per_s": _max_per_window(messages),
        "lags": lags,
        "intact": sent == text and len(text) == REPORT_BYTES and len(lags) == len(received),
        "open_bytes": open_bytes,
    }


def _delivered_text(recorder: CommRecorder, comm_id: str) -> str:
    """The text a browser would hold after applying every delta the stream view sent."""
    out: list[str] = []
    for message in recorder.for_comm(comm_id):
        custom = message.custom
        if isinstance(custom, dict):
            out.extend(str(text) for _, text in custom.get("a", []))
    return "".join(out)


def _max_per_window(messages: Sequence[RecordedMessage], window: float = 1.0) -> int:
    times = sorted(m.t for m in messages)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _naive() -> tuple[int, int]:
    """The same 2,000 chunks appended to an ``ipywidgets.HTML`` value (every message resends it all)."""
    import ipywidgets

    chunk = ("lorem ipsum dolor sit amet " * 2)[:CHUNK_CHARS]
    with recording_comms() as recorder:
        html = ipywidgets.HTML(value="")
        recorder.clear()
        for _ in range(CHUNKS):
            html.value += chunk
        nbytes, count = recorder.nbytes, len(recorder.messages)
        html.close()
    return nbytes, count


def run() -> dict[str, float | int | str]:
    fast = asyncio.run(_stream(paced=False))
    paced = asyncio.run(_stream(paced=True))
    naive_bytes, naive_messages = _naive()
    peers = _panel() if panel_available() else {}
    return {
        "report_bytes": REPORT_BYTES,
        "stream_bytes_ratio": round(fast["bytes"] / REPORT_BYTES, 4),
        "stream_bytes_ratio_paced": round(paced["bytes"] / REPORT_BYTES, 4),
        "stream_messages": fast["messages"],
        "stream_messages_paced": paced["messages"],
        "stream_msgs_per_s": max(fast["per_s"], paced["per_s"]),
        "stream_lag_ms_p99": round(percentile(paced["lags"], 99), 2),
        "stream_lag_ms_max": round(max(paced["lags"], default=0.0), 2),
        "stream_lag_ms_p99_fast": round(percentile(fast["lags"], 99), 2),
        "stream_text_intact": int(fast["intact"] and paced["intact"]),
        "panel_open_bytes": fast["open_bytes"],
        "naive_bytes_ratio": round(naive_bytes / REPORT_BYTES, 1),
        "naive_messages": naive_messages,
        **peers,
    }


def _panel() -> dict[str, float]:
    """Panel's two ways of streaming text, on the same chunks (see ``_panel_peers``)."""
    return {
        "panel_md_bytes_ratio": round(panel_bytes("markdown", CHUNKS, CHUNK_CHARS, paced=False) / REPORT_BYTES, 3),
        "panel_md_bytes_ratio_paced": round(panel_bytes("markdown", CHUNKS, CHUNK_CHARS, paced=True) / REPORT_BYTES, 3),
        "panel_chatfeed_bytes_ratio": round(
            panel_bytes("chatfeed", CHUNKS, CHUNK_CHARS, paced=False) / REPORT_BYTES, 3
        ),
    }

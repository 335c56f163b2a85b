"""The streaming benchmark's measuring parts (its figures are printed by ``python -m deepsearch_nb.bench stream``)."""

from __future__ import annotations

import asyncio

import ipywidgets

from deepsearch_nb.bench import _stream
from deepsearch_nb.bench._stream import LABELS, REPORT_BYTES, _max_per_window
from deepsearch_nb.testing import RecordedMessage, recording_comms


def test_fast_stream_arrives_whole_in_a_few_messages() -> None:
    figures = asyncio.run(_stream._stream(paced=False))
    assert figures["intact"]
    assert figures["messages"] < 20
    assert figures["bytes"] < 1.1 * REPORT_BYTES  # deterministic when the agent holds the loop


def test_recorded_bytes_are_what_the_kernel_would_send() -> None:
    with recording_comms() as recorder:
        html = ipywidgets.HTML(value="")
        recorder.clear()
        html.value = "x" * 10_000
        (message,) = recorder.messages
        html.close()
    # The value, plus the kernel's envelope: header, parent header, signature, comm id...
    assert 10_000 + 300 < message.nbytes < 10_000 + 1_500
    assert message.state == {"value": "x" * 10_000}


def test_window_count() -> None:
    def at(t: float) -> RecordedMessage:
        return RecordedMessage("comm_msg", "c", {}, 1, t)

    assert _max_per_window([at(0.0), at(0.5), at(0.9), at(1.5), at(1.6)]) == 3
    assert _max_per_window([]) == 0


def test_every_figure_has_a_label() -> None:
    keys = {
        "stream_bytes_ratio",
        "stream_bytes_ratio_paced",
        "stream_msgs_per_s",
        "stream_lag_ms_p99",
        "naive_bytes_ratio",
    }
    assert keys <= set(LABELS)

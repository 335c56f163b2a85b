"""Fakes for testing code built on deepsearch_nb, shipped with the library (as httpx ships MockTransport).

:class:`ScriptedAgent` plays a script per round: chunks, plus steps that pause, hang, raise, wait for
the test, or ignore cancellation. The chunk builders produce chunks with every field the real
openJiuwen agent sends, so scripts look like real streams. :func:`recording_comms` records the comm
messages widgets would send to a browser (panel tests and the stream benchmark). :class:`LabServer`,
:class:`LabPage` and :func:`chromium` start a real JupyterLab and Chromium (browser tests and benchmarks)::

    agent = ScriptedAgent(
        clarification("1. Which region?"),
        outline_round({"title": "T", "sections": [{"title": "A"}]}),
        report_round(["Section text [citation:1]."], sources=[("Doc", "docs/a.md")]),
    )
"""

from ._agents import (
    AgentCall,
    Hang,
    HangingCloseStream,
    IgnoreCancel,
    Pause,
    Raise,
    ScriptedAgent,
    UnprintableError,
    Usage,
    WaitFor,
    until_chunks,
)
from ._chunks import (
    all_end,
    chunk,
    clarification,
    final_result,
    framework_error,
    many_chunks,
    outline_round,
    report_round,
    tokens,
)
from ._comms import CommRecorder, RecordedMessage, recording_comms
from ._lab import (
    LabServer,
    built_extension_entry,
    extension_name,
    find_extension,
    link_built_extension,
    make_lab_server,
    output_text,
    read_notebook,
    save_notebook,
    save_output_notebook,
    write_notebook,
)
from ._lab_page import CHROMIUM, UPSTREAM_PAGE_ERRORS, LabPage, chromium, is_local, lab_in_chromium, new_lab_page
from ._llm import LlmRequest, StubLLM
from ._network import HttpSend, HttpSends, NetworkBlocked, NetworkGuard, loopback_only, record_http_sends
from ._probes import cancel_probe, tasks_left
from ._server import LoopbackServer

__all__ = [
    "CHROMIUM",
    "UPSTREAM_PAGE_ERRORS",
    "AgentCall",
    "CommRecorder",
    "Hang",
    "HangingCloseStream",
    "HttpSend",
    "HttpSends",
    "IgnoreCancel",
    "LabPage",
    "LabServer",
    "LlmRequest",
    "LoopbackServer",
    "NetworkBlocked",
    "NetworkGuard",
    "Pause",
    "Raise",
    "RecordedMessage",
    "ScriptedAgent",
    "StubLLM",
    "UnprintableError",
    "Usage",
    "WaitFor",
    "all_end",
    "built_extension_entry",
    "cancel_probe",
    "chromium",
    "chunk",
    "clarification",
    "extension_name",
    "final_result",
    "find_extension",
    "framework_error",
    "is_local",
    "lab_in_chromium",
    "link_built_extension",
    "loopback_only",
    "make_lab_server",
    "many_chunks",
    "new_lab_page",
    "outline_round",
    "output_text",
    "read_notebook",
    "record_http_sends",
    "recording_comms",
    "report_round",
    "save_notebook",
    "save_output_notebook",
    "tasks_left",
    "tokens",
    "until_chunks",
    "write_notebook",
]

from .._public import publish_module

publish_module(__name__, globals(), __all__)

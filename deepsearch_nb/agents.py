"""For agent authors: the ``Agent`` seam, the stream's models and vocabularies, and the adapters.

An agent is anything with the openJiuwen ``run`` signature that yields chunks (JSON strings or dicts);
optional protocols add session cleanup, controller-task cancel, the secrets it holds, and a spec that lets
``reproduce()`` rebuild it. ``ReportTemplate`` and ``resolve_template`` are the report templates every
agent receives as ``report_template``. The adapters (``LocalResearchAgent``, ``OpenJiuwenAgent``, ``RemoteAgent``,
``ReplayAgent``) are imported on first use: numpy, httpx and the SDK load only when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._agents._base import (
    Agent,
    AgentSpec,
    ChunkLike,
    SupportsSecrets,
    SupportsSessionCleanup,
    SupportsSpec,
    SupportsTaskCancel,
    cancel_context,
    raise_if_cancelled,
)
from ._agents._select import AGENT_KINDS, agent_from_spec, make_agent
from ._agents._usage import TokenUsage, report_usage
from ._errors import RemoteAgentError, TemplateError
from ._protocol import (
    ALL_END,
    SECTION_END,
    SUCCESS,
    AgentName,
    Chunk,
    FinalResult,
    HitlAnswer,
    HitlRequest,
    HitlStage,
    InterruptFeedback,
    MalformedChunk,
    MessageType,
    Outline,
    OutlineSection,
    ProgressUpdate,
    ReportTemplate,
    ResearchProgress,
    Source,
    StreamEvent,
    cancel_chunk,
    parse_chunk,
    resolve_template,
    stage_label,
)
from ._public import lazy_attributes, publish_module

if TYPE_CHECKING:
    from ._agents._local import DEMO_ANSWERS, DEMO_QUESTION, LocalResearchAgent
    from ._agents._remote import RemoteAgent
    from ._agents._replay import ReplayAgent
    from ._agents._sdk import OpenJiuwenAgent

__all__ = [
    "AGENT_KINDS",
    "ALL_END",
    "DEMO_ANSWERS",
    "DEMO_QUESTION",
    "SECTION_END",
    "SUCCESS",
    "Agent",
    "AgentName",
    "AgentSpec",
    "Chunk",
    "ChunkLike",
    "FinalResult",
    "HitlAnswer",
    "HitlRequest",
    "HitlStage",
    "InterruptFeedback",
    "LocalResearchAgent",
    "MalformedChunk",
    "MessageType",
    "OpenJiuwenAgent",
    "Outline",
    "OutlineSection",
    "ProgressUpdate",
    "RemoteAgent",
    "RemoteAgentError",
    "ReplayAgent",
    "ReportTemplate",
    "ResearchProgress",
    "Source",
    "StreamEvent",
    "SupportsSecrets",
    "SupportsSessionCleanup",
    "SupportsSpec",
    "SupportsTaskCancel",
    "TemplateError",
    "TokenUsage",
    "agent_from_spec",
    "cancel_chunk",
    "cancel_context",
    "make_agent",
    "parse_chunk",
    "raise_if_cancelled",
    "report_usage",
    "resolve_template",
    "stage_label",
]

_LAZY = {
    "DEMO_ANSWERS": "deepsearch_nb._agents._local",
    "DEMO_QUESTION": "deepsearch_nb._agents._local",
    "LocalResearchAgent": "deepsearch_nb._agents._local",
    "OpenJiuwenAgent": "deepsearch_nb._agents._sdk",
    "RemoteAgent": "deepsearch_nb._agents._remote",
    "ReplayAgent": "deepsearch_nb._agents._replay",
}

publish_module(__name__, globals(), __all__)
__getattr__ = lazy_attributes(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

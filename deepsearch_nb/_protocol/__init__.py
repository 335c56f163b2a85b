"""Layer 1, the protocol: pydantic models of the openJiuwen DeepSearch stream and tolerant parsing."""

from ._chunk import (
    ALL_END,
    SECTION_END,
    SUCCESS,
    Chunk,
    MalformedChunk,
    ParsedChunk,
    cancel_chunk,
    parse_chunk,
)
from ._hitl import HitlAnswer, HitlRequest, Outline, OutlineSection
from ._ids import (
    CONVERSATION_ID_PATTERN,
    NO_HITL_CONFIG,
    check_conversation_id,
    check_space_id,
    new_conversation_id,
)
from ._progress import NO_CHANGE, ProgressUpdate, ResearchProgress, stage_label
from ._result import FinalResult, Source, parse_reference_articles
from ._summary import summarise_payload
from ._template import ReportTemplate, resolve_template
from ._values import AgentName, HitlStage, InterruptFeedback, MessageType, StreamEvent

__all__ = [
    "ALL_END",
    "CONVERSATION_ID_PATTERN",
    "NO_CHANGE",
    "NO_HITL_CONFIG",
    "SECTION_END",
    "SUCCESS",
    "AgentName",
    "Chunk",
    "FinalResult",
    "HitlAnswer",
    "HitlRequest",
    "HitlStage",
    "InterruptFeedback",
    "MalformedChunk",
    "MessageType",
    "Outline",
    "OutlineSection",
    "ParsedChunk",
    "ProgressUpdate",
    "ReportTemplate",
    "ResearchProgress",
    "Source",
    "StreamEvent",
    "cancel_chunk",
    "check_conversation_id",
    "check_space_id",
    "new_conversation_id",
    "parse_chunk",
    "parse_reference_articles",
    "resolve_template",
    "stage_label",
    "summarise_payload",
]

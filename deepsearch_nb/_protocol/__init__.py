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
from ._progress import ResearchProgress, stage_label
from ._result import FinalResult, Source, parse_reference_articles
from ._values import AgentName, HitlStage, InterruptFeedback, MessageType, StreamEvent

__all__ = [
    "ALL_END",
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
    "ResearchProgress",
    "Source",
    "StreamEvent",
    "cancel_chunk",
    "parse_chunk",
    "parse_reference_articles",
    "stage_label",
]

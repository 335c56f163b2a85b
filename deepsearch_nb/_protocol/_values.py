"""The closed vocabularies of the openJiuwen DeepSearch stream.

They are ``StrEnum``s so that a member compares equal to the wire string: a chunk keeps its ``event`` as
the plain string it arrived with (a newer server may send a value we do not know yet), and code still
writes ``chunk.event == StreamEvent.DONE``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AgentName", "HitlStage", "InterruptFeedback", "MessageType", "StreamEvent"]


class StreamEvent(StrEnum):
    """The ``event`` field of a chunk."""

    START = "start"  # an LLM or manual stream begins; content is ""
    MESSAGE = "message"  # a token slice or a whole payload
    DONE = "done"  # the stream with this message_id is finished
    SUMMARY_RESPONSE = "summary_response"  # a complete object or a marker (ALL END, SECTION END, SUCCESS)
    WAITING_USER_INPUT = "waiting_user_input"  # an interrupt: the round ends and waits for an answer
    USER_INPUT_ENDED = "user_input_ended"  # an interaction round closed
    ERROR = "error"  # the agent failed (final result with exception_info, or a framework error)
    CANCEL = "cancel"  # the server's cancel chunk (message_type "system")


class MessageType(StrEnum):
    """The ``message_type`` field of a chunk."""

    MESSAGE_CHUNK = "message_chunk"
    INTERRUPT = "interrupt"
    SYSTEM = "system"  # only the server's cancel chunk


class AgentName(StrEnum):
    """Known producers (the ``agent`` field) in research mode."""

    GENERATE_QUESTIONS = "generate_questions"
    FEEDBACK_HANDLER = "feedback_handler"
    OUTLINE = "outline"
    OUTLINE_INTERACTION = "outline_interaction"
    PLAN_REASONING = "plan_reasoning"
    COLLECTOR_INFO_RETRIEVAL = "collector_info_retrieval"
    COLLECTOR_SUMMARY = "collector_summary"
    SUB_REPORTER = "sub_reporter"
    END = "end"
    FRAMEWORK = "framework"
    USER_FEEDBACK_PROCESSOR = "user_feedback_processor"
    SYSTEM = "system"


class InterruptFeedback(StrEnum):
    """The ``interrupt_feedback`` values a run or a resume accepts."""

    NONE = ""
    ACCEPTED = "accepted"
    REVISE_COMMENT = "revise_comment"
    REVISE_OUTLINE = "revise_outline"
    CANCEL = "cancel"


class HitlStage(StrEnum):
    """Which question a paused run is waiting on."""

    CLARIFICATION = "clarification"  # agent feedback_handler, after generate_questions
    OUTLINE_REVIEW = "outline_review"  # agent outline_interaction, after an outline
    REPORT_FEEDBACK = "report_feedback"  # agent user_feedback_processor
    STEP = "step"  # the runtime's own pause at a stage boundary (step mode), never an agent's interrupt

    @classmethod
    def for_agent(cls, agent: str) -> HitlStage:
        """The stage an interrupt from ``agent`` stands for; unknown agents count as clarification."""
        return _STAGE_BY_AGENT.get(agent, cls.CLARIFICATION)


_STAGE_BY_AGENT = {
    AgentName.FEEDBACK_HANDLER.value: HitlStage.CLARIFICATION,
    AgentName.OUTLINE_INTERACTION.value: HitlStage.OUTLINE_REVIEW,
    AgentName.USER_FEEDBACK_PROCESSOR.value: HitlStage.REPORT_FEEDBACK,
}

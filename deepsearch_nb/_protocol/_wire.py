"""Chunks as the openJiuwen SDK serialises them: the one constructor for every producer of chunks.

Key order and field types follow the captured SDK streams: normal chunks start with the ``*_idx``
fields, interrupts put ``agent`` second, the SDK's own ``framework`` chunks carry no ``*_idx``, and
``created_time`` is ``""`` on interrupts and ``SECTION END``. The offline local agent streams these, and
``deepsearch_nb.testing`` builds its fakes' scripts from them, so both look like the real thing.
"""

from __future__ import annotations

from typing import Any

from ._values import MessageType, StreamEvent

__all__ = ["framework_chunk", "interrupt_chunk", "sdk_chunk"]


def sdk_chunk(
    agent: str,
    event: str,
    content: str = "",
    *,
    conversation_id: str,
    message_id: str,
    created_time: int | str,
    section_idx: str = "0",
    plan_idx: str = "0",
    step_idx: str = "0",
    message_type: str = MessageType.MESSAGE_CHUNK.value,
) -> dict[str, Any]:
    """A ``message_chunk`` of a graph node."""
    return {
        "conversation_id": conversation_id,
        "section_idx": section_idx,
        "plan_idx": plan_idx,
        "step_idx": step_idx,
        "message_id": message_id,
        "agent": agent,
        "role": "assistant",
        "content": content,
        "message_type": message_type,
        "event": event,
        "created_time": created_time,
    }


def interrupt_chunk(agent: str, prompt: str, *, conversation_id: str, message_id: str) -> dict[str, Any]:
    """A ``waiting_user_input`` interrupt: the round ends after it."""
    return {
        "conversation_id": conversation_id,
        "agent": agent,
        "section_idx": "0",
        "plan_idx": "0",
        "step_idx": "0",
        "message_id": message_id,
        "role": "assistant",
        "content": prompt,
        "message_type": MessageType.INTERRUPT.value,
        "event": StreamEvent.WAITING_USER_INPUT.value,
        "created_time": "",
    }


def framework_chunk(
    event: str, content: str, *, conversation_id: str, message_id: str, created_time: int
) -> dict[str, Any]:
    """The SDK's own error / end chunks (``agent`` ``framework``), which carry no ``*_idx`` fields."""
    return {
        "conversation_id": conversation_id,
        "message_id": message_id,
        "agent": "framework",
        "role": "assistant",
        "content": content,
        "message_type": MessageType.MESSAGE_CHUNK.value,
        "event": event,
        "created_time": created_time,
    }

"""The one rule for conversation and space ids, shared by the run manager, the agents and the server.

The DeepSearch server keys a run by ``space_id:conversation_id``, so neither may hold a ``:``; ids travel
in URLs and log lines, so they are kept to letters, digits, ``_`` and ``-``.
"""

from __future__ import annotations

import re
import uuid

from .._errors import InvalidInputError

__all__ = [
    "CONVERSATION_ID_PATTERN",
    "NO_HITL_CONFIG",
    "check_conversation_id",
    "check_space_id",
    "new_conversation_id",
]

CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
"""The pattern as text, for pydantic ``Field(pattern=...)`` and JSON schemas (anchored at both ends)."""

_CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")

NO_HITL_CONFIG: dict[str, bool] = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
"""The agent_config that switches off every human-in-the-loop stop (clarification and outline review)."""


def new_conversation_id() -> str:
    """A fresh id for a notebook run."""
    return f"nb_{uuid.uuid4().hex[:12]}"


def check_conversation_id(value: object) -> str:
    """``value`` if it is a valid conversation id, else an error that says what one looks like.

    ``fullmatch``, not ``match`` with ``$``: ``$`` also matches before a final newline, so ``"ab\\n"`` passed.
    """
    if not isinstance(value, str):
        raise InvalidInputError(
            f"conversation_id must be a string of 1-128 letters, digits, '_' or '-', not {type(value).__name__}."
        )
    if _CONVERSATION_ID.fullmatch(value) is None:
        raise InvalidInputError(f"conversation_id {value!r} is invalid: use 1-128 letters, digits, '_' or '-'.")
    return value


def check_space_id(value: object) -> str:
    """``value`` if it is a valid space id (a non-empty name without ':')."""
    if not isinstance(value, str):
        raise InvalidInputError(f"space_id must be a string, not {type(value).__name__}.")
    if not value or ":" in value or value != value.strip() or "\n" in value:
        raise InvalidInputError(f"space_id {value!r} is invalid: use a non-empty name without ':' or spaces around.")
    return value

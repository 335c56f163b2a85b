"""The one exception hierarchy of deepsearch_nb.

Every error a user can meet derives from :class:`DeepSearchError` and says what to fix::

    DeepSearchError
    ├── ConfigurationError        bad agent_config, corpus path, options
    │   └── TemplateError         a report template that is missing or empty (names where it looked)
    ├── InvalidInputError         bad message, conversation_id, HITL answer
    ├── AgentError                the agent failed while running (carries the agent's own words)
    ├── RunStateError             an action that the run's current state does not allow
    │   └── RunNotFound           no run under that key
    ├── HitlTimeout               a headless run met a question nobody answered
    └── RemoteAgentError          a DeepSearch server answered with an HTTP error

Cancellation is not an error here: inside the runtime it stays ``asyncio.CancelledError`` and becomes
the ``CANCELLED`` state of a run only at the handle.
"""

from __future__ import annotations

__all__ = [
    "AgentError",
    "ConfigurationError",
    "DeepSearchError",
    "HitlTimeout",
    "InvalidInputError",
    "RemoteAgentError",
    "RunNotFound",
    "RunStateError",
    "TemplateError",
]


class DeepSearchError(Exception):
    """Base class of every error raised by deepsearch_nb."""


class ConfigurationError(DeepSearchError, ValueError):
    """The configuration cannot work; the message names the setting and a valid value."""


class TemplateError(ConfigurationError):
    """A report template is missing or empty; the message names every place that was looked in."""


class InvalidInputError(DeepSearchError, ValueError):
    """An argument is not acceptable (empty question, malformed conversation id, bad answer)."""


class AgentError(DeepSearchError):
    """The agent failed while running; ``str(err)`` is the agent's own description."""


class RunStateError(DeepSearchError, RuntimeError):
    """The run is not in a state that allows this action (e.g. answering a run that is not waiting)."""


class RunNotFound(RunStateError, KeyError):
    """No run is known under the given key."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the sentence readable.
        return str(self.args[0]) if self.args else "run not found"


class HitlTimeout(DeepSearchError, TimeoutError):
    """A run waited for an answer that no one gave within the timeout (headless runs)."""


class RemoteAgentError(AgentError):
    """A DeepSearch server refused a request; ``status`` is the HTTP status, ``detail`` its reason."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"DeepSearch server answered HTTP {status}: {detail}")
        self.status = status
        self.detail = detail

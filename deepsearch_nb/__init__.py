"""deepsearch_nb: run and steer openJiuwen DeepSearch research agents from Jupyter.

The root holds what a notebook user types: ``research`` (and ``research_sync``, ``reproduce``), the
``Report``, the run states, the agents, the errors. Two public subpackages serve the other audiences:
``deepsearch_nb.agents`` (agent authors: the Agent seam, the stream's models, the adapters) and
``deepsearch_nb.runtime`` (people building on the run manager); ``deepsearch_nb.testing`` ships fakes.

Heavy parts are imported on first use: the CLI, the server and code that only reads saved reports do
not pay for ipywidgets, numpy or httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import agents as agents
from . import runtime as runtime
from ._errors import (
    AgentError,
    ConfigurationError,
    DeepSearchError,
    HitlTimeout,
    InvalidInputError,
    RunStateError,
)
from ._labextension import _jupyter_labextension_paths as _jupyter_labextension_paths
from ._public import lazy_attributes, publish_module
from ._report import REPORT_MIME, Report
from ._version import __version__
from .runtime import RunState

if TYPE_CHECKING:
    from ._agents._local import DEMO_ANSWERS, DEMO_QUESTION, LocalResearchAgent
    from ._agents._local._frames import frame
    from ._agents._remote import RemoteAgent
    from ._agents._replay import ReplayAgent
    from ._agents._sdk import OpenJiuwenAgent
    from ._report._compare import compare
    from ._ui import ResearchHandle, reproduce, research, research_sync, resume, stats

_AGENTS = "deepsearch_nb.agents"  # the adapters' public home (their __module__ names it)
_UI = "deepsearch_nb._ui._research"
_LAZY = {
    "DEMO_ANSWERS": _AGENTS,
    "DEMO_QUESTION": _AGENTS,
    "LocalResearchAgent": _AGENTS,
    "OpenJiuwenAgent": _AGENTS,
    "RemoteAgent": _AGENTS,
    "ReplayAgent": _AGENTS,
    "ResearchHandle": _UI,
    "compare": "deepsearch_nb._report._compare",
    "frame": "deepsearch_nb._agents._local._frames",
    "reproduce": _UI,
    "research": _UI,
    "research_sync": _UI,
    "resume": "deepsearch_nb._ui._resume",
    "stats": _UI,
}

__all__ = [
    "DEMO_ANSWERS",
    "DEMO_QUESTION",
    "REPORT_MIME",
    "AgentError",
    "ConfigurationError",
    "DeepSearchError",
    "HitlTimeout",
    "InvalidInputError",
    "LocalResearchAgent",
    "OpenJiuwenAgent",
    "RemoteAgent",
    "ReplayAgent",
    "Report",
    "ResearchHandle",
    "RunState",
    "RunStateError",
    "__version__",
    "compare",
    "frame",
    "load_ipython_extension",
    "reproduce",
    "research",
    "research_sync",
    "resume",
    "stats",
]

publish_module(__name__, globals(), [n for n in __all__ if n != "RunState"])


__getattr__ = lazy_attributes(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The Jupyter server extension (the saved runs for the runs sidebar), in ``deepsearch_nb._jupyter``."""
    return [{"module": "deepsearch_nb._jupyter"}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext deepsearch_nb``: registers the ``%%deepsearch`` cell magic."""
    from ._ui._magics import load_ipython_extension as load

    load(ipython)

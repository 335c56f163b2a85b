"""The DeepSearch run API over HTTP/SSE, served by a :class:`RunManager` (needs the ``server`` extra).

``create_app`` builds the app of one worker: ``POST /api/v1/agent/deepsearch/run/`` runs, answers or
cancels as the openJiuwen DeepSearch server does, ``GET /health`` says which worker it is, whether Redis
is reachable and how many streams are open; ``/api/v1/agent/deepsearch/template`` keeps each space's report
templates in a database (:class:`TemplateStore`, SQLAlchemy; a SQLite file by default).
``deepsearch-nb serve`` runs it under uvicorn with ``--workers N`` processes sharing a Redis (``--redis
URL``): a cancel reaches the worker that holds the run, and an answer may land on any worker (``_rounds``,
``_shared``).

The names load on first use, so ``deepsearch-nb`` (which reads the ``serve`` options from here) starts
without FastAPI, and without the ``server`` extra installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._public import lazy_attributes

if TYPE_CHECKING:
    from ._app import RUN_PATH, AgentFactory, create_app
    from ._request import DeepSearchRequest
    from ._shared import Shared
    from ._templates import TemplateStore

__all__ = ["RUN_PATH", "AgentFactory", "DeepSearchRequest", "Shared", "TemplateStore", "create_app"]

_LAZY = {
    "RUN_PATH": "deepsearch_nb.server._app",
    "AgentFactory": "deepsearch_nb.server._app",
    "create_app": "deepsearch_nb.server._app",
    "DeepSearchRequest": "deepsearch_nb.server._request",
    "Shared": "deepsearch_nb.server._shared",
    "TemplateStore": "deepsearch_nb.server._templates",
}

__getattr__ = lazy_attributes(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

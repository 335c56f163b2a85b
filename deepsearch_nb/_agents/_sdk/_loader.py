"""Loading the openJiuwen SDK once per process, quietly, and the few SDK internals the adapter manages.

Why each part:
* **Logs.** Importing the SDK logs about twenty lines to stdout and creates ``./logs/`` in the working
  directory (openjiuwen's default log config), i.e. in the notebook's folder and its cell output. Before
  the import, openjiuwen's log config is pointed at :func:`sdk_log_dir` with file output only, the SDK's
  Python loggers (``openjiuwen_deepsearch.*``) get a file handler there instead of the console, and
  jieba's "Building prefix dict" lines are silenced. The SDK's own ``LogManager.init`` is not called: it
  clears the root logger's handlers.
* **The first session release** imports ``openjiuwen.agent_teams`` (0.5-0.8 s, blocking the event loop);
  it is imported in a background thread as soon as the SDK is loaded, and a release waits for that
  thread without blocking the loop.
* **Model clients** are cached process-wide by the SDK and bound to the event loop that created them; a
  second ``asyncio.run`` then fails every LLM call with "Event loop is closed", silently (the intent step
  falls back to "no clarification"). :meth:`Sdk.bind_loop` drops the cached clients when the loop changes.
* **A cancel between the SDK's check and its request**: httpx's transport checks the run's cancel event
  again right before any request of the run leaves (:func:`_guard_transport`).
* **Usage, live**: with ``stats_info_llm`` on, the SDK adds each LLM call's tokens to a per-conversation
  sum that only the final result shows; :func:`_report_usage_live` also hands each call to
  :func:`report_usage` as it is added (in the SDK task's context, which holds the run's usage sink), so
  the panel shows tokens as they are spent and a token budget can stop an SDK run mid-way.
* **Warnings.** The SDK's tracer makes pydantic warn on every resumed round; that one message is ignored.
* **Stores.** The in-memory checkpointer keeps a conversation in five places; :meth:`Sdk.sessions` names
  those still holding it, :meth:`Sdk.release` empties them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import logging.handlers
import os
import threading
import warnings
import weakref
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from ..._errors import ConfigurationError
from .._usage import report_usage

__all__ = ["LOG_DIR_ENV", "Sdk", "sdk_log_dir"]

LOG_DIR_ENV = "DEEPSEARCH_NB_SDK_LOG_DIR"
_log = logging.getLogger("deepsearch_nb.sdk")
_LOCK = threading.Lock()
_LOG_DIR: Path | None = None  # set when the SDK's logging is redirected (once per process)
_TEAMS: threading.Thread | None = None  # the warm-up import of openjiuwen.agent_teams
_LOOP: weakref.ref[asyncio.AbstractEventLoop] | None = None  # the loop the SDK's cached clients belong to
_TEAMS_MODULES = ("openjiuwen.agent_teams.runtime.manager", "openjiuwen.agent_teams.kv_cache")


def sdk_log_dir() -> Path:
    """Where the SDK's logs go: ``$DEEPSEARCH_NB_SDK_LOG_DIR``, else ``$XDG_STATE_HOME/deepsearch-nb/sdk-logs``
    (``~/.local/state/deepsearch-nb/sdk-logs``). Read once, when the SDK is first loaded in a process."""
    configured = os.environ.get(LOG_DIR_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state).expanduser().resolve() / "deepsearch-nb" / "sdk-logs"


def _prepare_process() -> tuple[Path, threading.Thread]:
    """Redirect the SDK's logs before its first import (once per process)."""
    global _LOG_DIR, _TEAMS
    with _LOCK:
        if _LOG_DIR is None:
            _LOG_DIR = sdk_log_dir()
            _quiet_logging(_LOG_DIR)
            # The SDK's tracer dumps a model holding an InteractiveInput where it declares a dict: pydantic
            # warns on every resumed round, into the cell output. Only that message is silenced.
            warnings.filterwarnings("ignore", message="Pydantic serializer warnings", category=UserWarning)
        if _TEAMS is None:
            _TEAMS = threading.Thread(target=_import_teams, name="deepsearch-nb sdk warm-up", daemon=True)
        return _LOG_DIR, _TEAMS


def _quiet_logging(log_dir: Path) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        log_config = importlib.import_module("openjiuwen.core.common.logging.log_config").log_config
        config = log_config.get_snapshot()
        files = {
            "log_file": "run/jiuwen.log",
            "interface_log_file": "interface/jiuwen_interface.log",
            "prompt_builder_interface_log_file": "interface/jiuwen_prompt_builder_interface.log",
            "performance_log_file": "performance/jiuwen_performance.log",
        }
        config.update({name: str(log_dir / rel) for name, rel in files.items()})
        config.update(log_path=str(log_dir), output=["file"], interface_output=["file"], performance_output=["file"])
        log_config.load_from_dict(config)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:  # another openjiuwen layout
        _log.warning("could not redirect openjiuwen's logs to %s: %s", log_dir, exc)
    sdk_logger = logging.getLogger("openjiuwen_deepsearch")
    if not any(getattr(h, "_deepsearch_nb", False) for h in sdk_logger.handlers):
        handler = logging.handlers.RotatingFileHandler(
            log_dir / "openjiuwen_deepsearch.log", maxBytes=20 * 1024 * 1024, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._deepsearch_nb = True  # type: ignore[attr-defined]
        sdk_logger.addHandler(handler)
        sdk_logger.setLevel(logging.INFO)
        sdk_logger.propagate = False  # not into the root logger, i.e. not into the cell output
    with contextlib.suppress(ImportError):
        importlib.import_module("jieba").setLogLevel(logging.WARNING)


class Sdk:
    """The SDK entry points the adapter uses, imported once per process."""

    def __init__(self) -> None:
        self.log_dir, self._teams = _prepare_process()
        try:
            factory = importlib.import_module("openjiuwen_deepsearch.framework.openjiuwen.agent.agent_factory")
            config = importlib.import_module("openjiuwen_deepsearch.config.config")
            contextvars = importlib.import_module("openjiuwen_deepsearch.utils.constants_utils.session_contextvars")
            checkpointer = importlib.import_module("openjiuwen.core.session.checkpointer.checkpointer")
        except ImportError as exc:
            raise ConfigurationError(
                f"The openJiuwen SDK is not installed ({exc.name}): pip install 'deepsearch-nb[sdk]'."
            ) from None
        self.agent_factory = factory.AgentFactory()
        self.default_config: dict[str, Any] = config.Config().agent_config.model_dump()
        self.cancel_context = contextvars.cancel_context
        self.checkpointers = checkpointer.CheckpointerFactory
        self._model_clients = _optional("openjiuwen.core.foundation.llm.model_clients.openai_model_client")
        self._llm_utils = _optional("openjiuwen_deepsearch.utils.common_utils.llm_utils")
        with _LOCK:
            if not self._teams.is_alive() and self._teams.ident is None:
                self._teams.start()  # after the SDK's import, so the two imports never interleave
            _guard_transport(self.cancel_context)
            _report_usage_live(self._llm_utils)

    # --- event loops (finding 2) -------------------------------------------------------------------

    async def bind_loop(self) -> bool:
        """Make the SDK's cached model clients usable on the running loop; True if stale ones were dropped.

        Clients left by a loop that has gone are dropped (not closed: closing needs their loop). So that
        none is left in the first place, the clients are closed when the running loop shuts down
        (``asyncio.run`` finalises async generators first): :func:`_watch` registers one for that.
        """
        global _LOOP
        loop = asyncio.get_running_loop()
        previous = _LOOP() if _LOOP is not None else None
        _LOOP = weakref.ref(loop)
        await _watch(loop, self._model_clients)
        if previous is None or previous is loop:
            return False
        cache = getattr(getattr(self._model_clients, "OpenAIModelClient", None), "_client_cache", None)
        if isinstance(cache, dict) and cache:
            cache.clear()
            _log.info("dropped the SDK's model clients of a previous event loop")
            return True
        return False

    # --- stores (finding 1) ------------------------------------------------------------------------

    def sessions(self, conversation_id: str) -> list[str]:
        """Every SDK store that still holds ``conversation_id`` (empty once it is released)."""
        held: list[str] = []
        checkpointer = self.checkpointers.get_checkpointer()
        for name in ("_workflow_stores", "_agent_stores", "_agent_team_stores", "_session_to_workflow_ids"):
            store = getattr(checkpointer, name, None)
            if isinstance(store, dict) and any(str(k).startswith(conversation_id) for k in store):
                held.append(f"checkpointer.{name}")
        graph = getattr(getattr(checkpointer, "_graph_store", None), "store_ck", None)
        if isinstance(graph, dict) and conversation_id in graph:
            held.append("checkpointer._graph_store.store_ck")
        usage = getattr(self._llm_utils, "_WORKFLOW_LLM_USAGE", None)
        if isinstance(usage, dict) and conversation_id in usage:
            held.append("llm_utils._WORKFLOW_LLM_USAGE")
        return held

    async def release(self, conversation_id: str, agents: list[Any]) -> None:
        """Empty every store of the conversation, without blocking the loop on the SDK's first release.

        The checkpointer's stores go first (fast, and what a resume would find); the agents' own release
        (which imports ``openjiuwen.agent_teams`` the first time) waits for the warm-up thread off the loop.
        A caller that bounds this call and gives up during that wait still leaves no conversation state.
        """
        checkpointer = self.checkpointers.get_checkpointer()
        await checkpointer.release(conversation_id)
        graph_store = getattr(checkpointer, "graph_store", None)
        if callable(graph_store):
            # release() deletes only the workflow ids it has recorded; a save that landed without one stays.
            await graph_store().delete(conversation_id)
        pop_usage = getattr(self._llm_utils, "pop_workflow_llm_usage", None)
        if callable(pop_usage):
            pop_usage(conversation_id)
        if self._teams.is_alive():
            await asyncio.to_thread(self._teams.join)
        for agent in agents:
            release_session = getattr(getattr(agent, "agent", None), "release_session", None)
            if release_session is not None:
                await release_session(conversation_id)


def _guard_transport(sdk_cancel_context: Any) -> None:
    """A last cancel check right before any HTTP request of a cancelled run leaves (once per process).

    The SDK checks its cancel event when an LLM call starts, then builds and sends the request; a cancel in
    between (a click, another section running in parallel) would still send it. Not every SDK client is
    one the adapter can reach (a writer may build its own), so the check sits in httpx's transport, which
    every async client sends through: a request made in a context whose cancel event (the SDK's, or the
    runtime's) is set is refused with ``CancelledError``, as the SDK's own check raises. Anywhere else
    (no run, or a run not cancelled) the request passes untouched.
    """
    import httpx

    from .._base import cancel_context

    original = httpx.AsyncHTTPTransport.handle_async_request
    if getattr(original, "_deepsearch_nb", False):
        return

    async def handle_async_request(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        for variable in (sdk_cancel_context, cancel_context):
            event = variable.get(None)
            if event is not None and event.is_set():
                raise asyncio.CancelledError("cancelled")
        return await original(self, request)

    handle_async_request._deepsearch_nb = True  # type: ignore[attr-defined]
    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]


def _report_usage_live(llm_utils: Any) -> None:
    """Wrap the SDK's ``add_workflow_llm_usage`` so each call's tokens also reach the run (once per process).

    The SDK looks the function up in its module at each call, so replacing the module attribute is enough.
    The stage is the SDK agent that made the call (``plan_reasoning``, ``sub_reporter``...).
    """
    original = getattr(llm_utils, "add_workflow_llm_usage", None)
    if not callable(original) or getattr(original, "_deepsearch_nb", False):
        return

    def add_workflow_llm_usage(session_id: str, token_usage: Any, agent_name: str = "") -> None:
        original(session_id, token_usage, agent_name)
        if session_id and session_id != "-":  # the SDK's own "no session" marker: it counted nothing
            tokens_in = getattr(token_usage, "input_tokens", 0) or 0
            report_usage(agent_name or "sdk", tokens_in, getattr(token_usage, "output_tokens", 0) or 0)

    add_workflow_llm_usage._deepsearch_nb = True  # type: ignore[attr-defined]
    llm_utils.add_workflow_llm_usage = add_workflow_llm_usage


_WATCHED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncGenerator[None, None]] = weakref.WeakKeyDictionary()


async def _watch(loop: asyncio.AbstractEventLoop, clients: Any) -> None:
    """Close the SDK's cached model clients when ``loop`` shuts down, on that loop (once per loop)."""
    if loop in _WATCHED:
        return

    async def closer() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            close = getattr(getattr(clients, "OpenAIModelClient", None), "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    generator = closer()
    _WATCHED[loop] = generator  # held here: the loop itself keeps only a weak reference
    await anext(generator)  # now the loop knows it, and finalises it in shutdown_asyncgens()


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _import_teams() -> None:
    for name in _TEAMS_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a warm-up only: the release imports it again and reports a real failure
            _log.debug("pre-import of %s failed: %s", name, exc)

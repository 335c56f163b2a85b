"""``OpenJiuwenAgent``: the real openJiuwen DeepSearch SDK as an :class:`Agent`.

What the adapter adds to calling ``DeepresearchAgent.run`` directly (protocol reference §3.3, §6):
* **The SDK's round is iterated to its own end**, the interrupt chunk included: after an interrupt
  about six SDK tasks still run and save the checkpoint 5-9 ms later, and only the generator's end
  says the save landed. If the consumer stops at the interrupt anyway, the adapter finishes the round
  itself when it is closed (bounded by ``finish_timeout``, logged when exceeded).
* **Cancellation**: the run's cancel event is put into the SDK's own ``cancel_context`` in the
  iterating task, before the first iteration, so the SDK's LLM-boundary checks see it.
* **Cleanup**: ``cleanup_session`` waits briefly for the conversation's round to end, then empties every
  SDK store of it, and once more when a round still ending does end (a late save is released too);
  :meth:`OpenJiuwenAgent.sdk_sessions` lists the stores still holding it.
* **A fresh config every round** (the SDK zeroes its key bytearrays after use), built from settings a
  person writes (:mod:`._settings`), checked before any request.
* **Event loops**: the SDK's process-wide model clients are closed when their loop shuts down and
  dropped when a round runs on a new loop; a last cancel check runs right before each LLM request.
* The SDK is imported in a worker thread on first use (it takes seconds), with its logs sent to
  :func:`sdk_log_dir`, never to the cell output or the notebook's folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..._errors import ConfigurationError, InvalidInputError
from .._base import AgentSpec, ChunkLike, cancel_context
from .._local._sources import Sources, load_sources
from ._loader import Sdk
from ._search import PLUGIN_CLASS, plugin_path, register_corpus, register_sources
from ._settings import CORPUS_SEARCH, SdkSettings

__all__ = ["KIND", "OpenJiuwenAgent"]

KIND = "openjiuwen-sdk"
_ROUND_END_WAIT_S = 0.2  # how long a cleanup waits for a cancelled round to end before releasing anyway
_log = logging.getLogger("deepsearch_nb.sdk")


class OpenJiuwenAgent:
    """Research with the openJiuwen DeepSearch SDK (``pip install 'deepsearch-nb[sdk]'``).

    ``base_url`` / ``model``: an OpenAI-compatible endpoint (``OPENAI_BASE_URL`` is read when no
    ``base_url`` is given) and the model it serves. The key is read from the environment variable
    ``api_key_env`` (``OPENAI_API_KEY``; ``None`` for an endpoint without a key); ``api_key=`` passes it
    directly, and a report then cannot rebuild the agent on its own. ``corpus``: a folder of documents
    the SDK searches with the project's local search (the default search, on the shipped demo corpus
    when no folder is given), or ``sources=`` the notebook's own data (DataFrames, strings, files); or
    ``search="tavily"`` (or another SDK web engine) with
    ``search_api_key_env``. ``human_in_the_loop`` (clarifying questions) and ``outline_interaction``
    (outline review) are the two pauses. ``agent_config``: any further SDK ``agent_config`` keys, merged
    last. ``source_tracing`` turns on the SDK's source tracer (about 18 more LLM calls, and it may fetch
    a public-suffix list from the internet on first use). The SDK's logs go to :func:`sdk_log_dir`.
    """

    kind = KIND

    def __init__(
        self,
        agent_config: Mapping[str, Any] | None = None,
        *,
        base_url: str | None = None,
        model: str | None = None,
        model_type: str = "openai",
        api_key_env: str | None = "OPENAI_API_KEY",
        api_key: str | None = None,
        corpus: str | Path | None = None,
        search: str | None = None,
        search_api_key_env: str | None = None,
        search_api_key: str | None = None,
        search_url: str = "",
        human_in_the_loop: bool = True,
        outline_interaction: bool = True,
        max_sections: int | None = None,
        source_tracing: bool = False,
        finish_timeout: float = 30.0,
        sources: Sequence[object] | None = None,
    ) -> None:
        self.settings = SdkSettings.build(
            agent_config,
            base_url=base_url,
            model=model,
            model_type=model_type,
            api_key_env=api_key_env,
            api_key=api_key,
            search=search,
            corpus=corpus,
            search_api_key_env=search_api_key_env,
            search_api_key=search_api_key,
            search_url=search_url,
            human_in_the_loop=human_in_the_loop,
            outline_interaction=outline_interaction,
            max_sections=max_sections,
            source_tracing=source_tracing,
        )
        self.finish_timeout = finish_timeout
        self._sources: Sources | None = None
        if sources is not None:  # the notebook's own data, searched through the same custom engine
            if corpus is not None or self.settings.search != CORPUS_SEARCH:
                raise ConfigurationError("sources= is searched instead of corpus= or a web engine: give only one.")
            self._sources = load_sources(sources)
            self._corpus_key: str | None = register_sources(self._sources)
        else:
            self._corpus_key = register_corpus(self.settings.corpus) if self.settings.search == CORPUS_SEARCH else None
        self._sdk: Sdk | None = None
        self._agents: dict[str, Any] = {}
        self._rounds: dict[str, asyncio.Event] = {}  # conversation -> set when its SDK round has ended
        self._release_at_end: set[str] = set()  # cleaned up before their round ended: release again then

    def __repr__(self) -> str:  # the settings' repr leaves the keys out
        s = self.settings
        where = f"corpus={s.corpus!r}" if s.search == CORPUS_SEARCH else f"search={s.search!r}"
        return f"OpenJiuwenAgent(base_url={s.base_url!r}, model={s.model!r}, {where})"

    # --- the seams the runtime and reports use -----------------------------------------------------

    def spec(self) -> AgentSpec:
        """Kind and whole config, keys only as the names of their environment variables."""
        config = self.settings.spec_config()
        if self._sources is not None:  # in-memory data a report does not hold: agent_from_spec refuses it
            config.update(corpus=self._sources.description, sources=list(self._sources.described))
        return {"kind": KIND, "config": config}

    def secret_values(self) -> list[str]:
        """Every key this agent holds (LLM and search), for scrubbing errors, transcripts and reports."""
        return self.settings.secrets()

    @property
    def sdk(self) -> Sdk:
        """The SDK handle (imports the SDK on first use; in async code :meth:`load` does it in a thread)."""
        if self._sdk is None:
            self._sdk = Sdk()
        return self._sdk

    async def load(self) -> Sdk:
        """Import the SDK in a worker thread, so the event loop (the kernel's) keeps serving meanwhile."""
        if self._sdk is None:
            sdk = await asyncio.to_thread(Sdk)
            self._sdk = self._sdk or sdk
        return self._sdk

    def config_for_round(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A fresh SDK ``agent_config``: the SDK's defaults, these settings, then the round's overrides."""
        config = self.settings.sdk_config(self.sdk.default_config, self._plugin())
        if overrides:
            from ._settings import fresh_secrets, merge

            merge(config, dict(overrides))
            config = fresh_secrets(config)
        return config

    def _plugin(self) -> tuple[str, str, str] | None:
        return (plugin_path(), PLUGIN_CLASS, self._corpus_key) if self._corpus_key is not None else None

    def sdk_sessions(self, conversation_id: str) -> list[str]:
        """The SDK stores still holding ``conversation_id`` (empty after ``cleanup_session``)."""
        return self.sdk.sessions(conversation_id) if self._sdk is not None else []

    def _agent_for(self, config: Mapping[str, Any]) -> Any:
        key = f"{config.get('search_mode', 'research')}:{config.get('execution_method', 'parallel')}"
        if key not in self._agents:
            try:
                self._agents[key] = self.sdk.agent_factory.create_agent(dict(config))
            except ValueError as exc:  # CustomValueException derives from ValueError
                raise ConfigurationError(f"The SDK refused the agent_config: {exc}") from None
        return self._agents[key]

    # --- one round ---------------------------------------------------------------------------------

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncIterator[ChunkLike]:
        """Stream one round: every chunk the SDK yields, until its generator ends on its own."""
        sdk = await self.load()
        await sdk.bind_loop()
        config = self.config_for_round(agent_config)
        agent = self._agent_for(config)
        ended = asyncio.Event()
        self._rounds[conversation_id] = ended
        before = asyncio.all_tasks()
        token = sdk.cancel_context.set(cancel_context.get())  # in the iterating task, before iterating
        stream = agent.run(message, conversation_id, config, report_template, interrupt_feedback)
        paused = False
        try:
            try:
                first = await anext(stream)
            except StopAsyncIteration:
                return
            except ValueError as exc:  # the SDK validates its parameters before the first yield
                raise InvalidInputError(f"The SDK refused the request: {_explain(exc)}") from None
            paused = _is_interrupt(first)
            yield first
            async for chunk in stream:
                paused = paused or _is_interrupt(chunk)
                yield chunk
        except GeneratorExit:
            if paused:  # closed at the pause: let the SDK's round finish saving before the stream goes
                await self._finish(stream, conversation_id)
            raise
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()
            event = sdk.cancel_context.get(None)
            sdk.cancel_context.reset(token)
            if event is not None and event.is_set():
                self._release_after_strays(conversation_id, before)
            ended.set()
            if self._rounds.get(conversation_id) is ended:
                del self._rounds[conversation_id]
            if conversation_id in self._release_at_end:  # cleaned up while this round was still ending
                self._release_at_end.discard(conversation_id)
                with contextlib.suppress(Exception):
                    await sdk.release(conversation_id, list(self._agents.values()))

    def _release_after_strays(self, conversation_id: str, before: set[asyncio.Task[Any]]) -> None:
        """After a cancelled round, release the conversation again once the SDK tasks it left have ended.

        Closing the SDK's generator on a cancel does not wait for every task the round spawned: on a
        loaded machine some still unwind (and could save a checkpoint) after the runtime's cleanup. They
        are found as the SDK's tasks created during the round (other rounds' tasks at worst delay this
        second release, which is idempotent) and watched by callbacks, so nothing here waits.
        """
        strays = [t for t in asyncio.all_tasks() - before if not t.done() and _is_sdk_task(t)]
        if not strays:
            return
        left = len(strays)

        def one_done(_task: asyncio.Task[Any]) -> None:
            nonlocal left
            left -= 1
            if left == 0 and self._sdk is not None:
                release = asyncio.ensure_future(self._sdk.release(conversation_id, list(self._agents.values())))
                release.add_done_callback(_log_failure)

        for task in strays:
            task.add_done_callback(one_done)

    async def _finish(self, stream: AsyncIterator[Any], conversation_id: str) -> None:
        try:
            async with asyncio.timeout(self.finish_timeout):
                async for _ in stream:
                    pass
        except TimeoutError:
            _log.warning(
                "the SDK's round of %s did not end within %.0fs after its pause; its state may be incomplete",
                conversation_id,
                self.finish_timeout,
            )

    async def cleanup_session(self, conversation_id: str) -> None:
        """Empty every SDK store of the conversation; again when its round ends, if it is still ending.

        A cancelled round normally ends within milliseconds; it is waited for briefly (the runtime bounds
        a cleanup), and if it has not ended, the round releases once more when it does, so a save that
        lands late is released too.
        """
        ended = self._rounds.get(conversation_id)
        if ended is not None and not ended.is_set():
            try:
                await asyncio.wait_for(ended.wait(), _ROUND_END_WAIT_S)
            except TimeoutError:
                self._release_at_end.add(conversation_id)
        sdk = await self.load()
        await sdk.release(conversation_id, list(self._agents.values()))

    async def cancel_tasks(self, conversation_id: str) -> None:
        """Cancel controller-level tasks where the SDK has them (the legacy controller; 0.1.11 has none)."""
        for agent in self._agents.values():
            controller = getattr(getattr(agent, "agent", None), "controller", None)
            queue = getattr(controller, "task_queue", None)
            cancel = getattr(queue, "cancel_running_task", None)
            if cancel is not None:
                await cancel(conversation_id)


def _is_sdk_task(task: asyncio.Task[Any]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "openjiuwen" in code.co_filename


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.warning("releasing a cancelled round's SDK state failed: %s", type(task.exception()).__name__)


def _is_interrupt(chunk: Any) -> bool:
    if isinstance(chunk, str):
        if '"interrupt"' not in chunk:
            return False
        with contextlib.suppress(ValueError):
            chunk = json.loads(chunk)
    return isinstance(chunk, Mapping) and chunk.get("message_type") == "interrupt"


def _explain(exc: Exception) -> str:
    """The SDK's parameter error, with what to do for the ones a person can meet."""
    text = str(exc)
    if "[200013]" in text or "conversation_id" in text:
        return f"{text} (conversation_id: 1-128 letters, digits, '_' or '-')"
    return text

"""``LocalResearchAgent``: an offline research agent over local documents speaking the SDK's protocol.

It behaves like openJiuwen's ``DeepresearchAgent`` as seen from a client: the same ``run`` signature,
the same parameter checks raised before the first chunk, the same chunk grammar and HITL stops, the
same error / ``ALL END`` behaviour, and per-conversation state kept in a session store (the SDK keeps it
in its checkpointer): in the instance by default, or one several server workers share (``sessions=``),
and released on ``ALL END``, on the error path and by :meth:`cleanup_session`. It needs no network:
retrieval is BM25 over the corpus, writing is extractive.

Where the SDK fails and this agent does better: an invalid ``revise_outline`` gets an ``error`` chunk and
the same outline question again instead of ending the run; a round that is cancelled leaves the
conversation at its previous question (see ``_session``).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..._errors import ConfigurationError, InvalidInputError
from ..._secrets import redact, scrub_text, secret_values
from .._base import AgentSpec
from ._config import LocalSettings, parse_settings
from ._corpus import Corpus
from ._emit import Emitter
from ._flow import ALL_END, RoundRunner
from ._index import CorpusIndex
from ._index_cache import load_indexed
from ._llm import LlmWriter
from ._session import MemorySessionStore, Session, SessionStore
from ._sources import load_sources

__all__ = ["LocalResearchAgent"]

_log = logging.getLogger("deepsearch_nb.local_agent")
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_FEEDBACK = ("", "accepted", "revise_comment", "revise_outline", "cancel")


def validate_run_params(
    message: object, conversation_id: object, interrupt_feedback: object, report_template: object
) -> None:
    """The SDK's ``validate_run_agent_params``: raised before the first chunk, with what to fix."""
    if not isinstance(interrupt_feedback, str) or interrupt_feedback not in _FEEDBACK:
        allowed = ", ".join(repr(f) for f in _FEEDBACK)
        raise InvalidInputError(f"interrupt_feedback {interrupt_feedback!r} is not valid; use one of {allowed}.")
    if not isinstance(message, str):
        raise InvalidInputError(f"message must be a string, not {type(message).__name__}.")
    if not message.strip() and interrupt_feedback != "accepted":
        what = "the research question" if not interrupt_feedback else f"the text of your {interrupt_feedback!r} answer"
        raise InvalidInputError(
            f"message is empty; send {what}. Only interrupt_feedback='accepted' may have an empty message."
        )
    if not isinstance(conversation_id, str) or not _CONVERSATION_ID.match(conversation_id):
        raise InvalidInputError(
            f"conversation_id {conversation_id!r} is invalid: use 1 to 128 letters, digits, '_' or '-' "
            "(for example 'nb_3f2a9c')."
        )
    if not isinstance(report_template, str):
        raise InvalidInputError(f"report_template must be a string, not {type(report_template).__name__}.")


class LocalResearchAgent:
    """An offline DeepSearch research agent over a folder of documents.

    ``corpus``: a folder (or one file) of Markdown, text, HTML and - with ``pypdf`` - PDF documents;
    ``None`` is the shipped demo corpus on grid-scale battery storage. ``pacing``: seconds between two
    streamed chunks, so a demo looks live (``agent_config["local_pacing_s"]`` overrides it per
    conversation). ``llm``: an OpenAI-compatible endpoint (``{"base_url", "model", "api_key"}``, see
    ``_llm.LlmWriter``) that writes each section from the sentences the extractive writer chose; off by
    default, and the only part that needs a network (and ``httpx``).
    ``sessions``: where paused conversations are kept between rounds (:class:`SessionStore`; default: in
    this instance), so that a server worker other than the one that paused a conversation can resume it.
    ``sources``: the notebook's own data instead of ``corpus`` (DataFrames, strings, files, folders; see
    ``_sources``), indexed together; a row is cited as ``df.loc[42]``.
    The corpus is read and indexed here, so a bad path fails at construction.
    """

    def __init__(
        self,
        corpus: str | Path | None = None,
        *,
        pacing: float = 0.0,
        llm: Mapping[str, Any] | None = None,
        sessions: SessionStore | None = None,
        sources: Sequence[object] | None = None,
    ) -> None:
        if isinstance(pacing, bool) or not isinstance(pacing, int | float) or not math.isfinite(pacing) or pacing < 0:
            raise ConfigurationError(f"pacing must be a number of seconds >= 0, not {pacing!r}.")
        self._llm = LlmWriter(llm) if llm is not None else None
        self._llm_config = dict(llm) if llm is not None else None  # for spec()
        self._pacing = float(pacing)
        if sources is not None and corpus is not None:
            raise ConfigurationError("Give corpus= or sources=, not both: put the folder in sources= too.")
        self._sources = load_sources(sources) if sources is not None else None  # the notebook's own data
        if self._sources is not None:
            self._corpus: Corpus = self._sources.corpus
            self._corpus_path: str | None = str(self._sources.corpus.root)  # files are relative to it
            self._index = CorpusIndex(self._corpus)
            self._fingerprint = self._sources.fingerprint  # of the files as read, not as they are later
        else:  # read and indexed, or the saved index of an unchanged folder (_index_cache)
            self._corpus, self._index, self._fingerprint = load_indexed(corpus)  # says what corpus accepts
            self._corpus_path = None if corpus is None else str(Path(corpus).expanduser().resolve())  # for spec()
        self._sessions: SessionStore = MemorySessionStore() if sessions is None else sessions
        self._running: dict[str, object] = {}  # conversation -> token of the run() iterating it

    def secret_values(self) -> list[str]:
        """The keys the LLM writer holds (``api_key``, an ``Authorization`` header and its bare token, a key
        in the URL's query, the variable ``api_key_env`` names), for scrubbing errors, logs and reports."""
        return secret_values(self._llm_config)

    def reports_step_points(self) -> bool:
        """The local agent pauses itself at every stage boundary of step mode (and takes the edits)."""
        return True

    def spec(self) -> AgentSpec:
        """Kind and config to rebuild this agent: the corpus (absolute; None for the demo corpus) and its
        fingerprint (so a rebuild can tell that the files changed), the pacing, and the LLM writer's
        endpoint with its key as ``"***"`` (never the key)."""
        llm: dict[str, Any] | None = None
        if self._llm_config is not None:
            llm = redact(  # api_key, and a key in the URL's query (``?api_key=``) too
                {
                    k: v
                    for k, v in self._llm_config.items()
                    if k != "transport" and isinstance(v, str | int | float | bool | type(None))
                }
            )
        config: dict[str, Any] = {
            "corpus": self._corpus_path,
            "corpus_fingerprint": copy.deepcopy(self._fingerprint),
            "pacing": self._pacing,
            "llm": llm,
        }
        if self._sources is not None:  # in-memory data a report does not hold: agent_from_spec refuses it
            config["sources"] = list(self._sources.described)
        return {"kind": "local", "config": config}

    @property
    def corpus(self) -> Corpus:
        """The documents this agent researches (read-only)."""
        return self._corpus

    @property
    def index(self) -> CorpusIndex:
        """The BM25 index over :attr:`corpus` (read-only, shared by all conversations)."""
        return self._index

    def pending_conversations(self) -> tuple[str, ...]:
        """Conversations waiting at a question (their state is held until answered or cleaned up)."""
        return self._sessions.held()

    def running_conversations(self) -> tuple[str, ...]:
        """Conversations a ``run`` call is streaming right now."""
        return tuple(self._running)

    async def cleanup_session(self, conversation_id: str) -> None:
        """Forget a conversation's pending state; harmless for an unknown or finished one."""
        await self._sessions.delete(conversation_id)

    async def run(
        self,
        message: str,
        conversation_id: str,
        agent_config: Mapping[str, Any] | None = None,
        report_template: str = "",
        interrupt_feedback: str = "",
    ) -> AsyncGenerator[str]:
        """Stream one round of the conversation as JSON strings (see the module docstring)."""
        validate_run_params(message, conversation_id, interrupt_feedback, report_template)
        stored = await self._sessions.load(conversation_id)
        calls = stored.calls + 1 if stored is not None else 1
        emitter = Emitter(conversation_id, calls)
        refusal = self._refusal(conversation_id, stored, interrupt_feedback)
        settings: LocalSettings | None = None
        if refusal is None:
            try:
                # A resume without a config keeps the conversation's settings; with one, it replaces them.
                if stored is not None and agent_config is None:
                    settings = stored.settings
                else:
                    settings = parse_settings(agent_config, self._pacing)
            except ConfigurationError as exc:
                refusal = str(exc)
        if refusal is not None or settings is None:
            if conversation_id not in self._running:  # never disturb the round that is streaming
                await self._sessions.delete(conversation_id)
            for chunk in self._framework_error(emitter, refusal or "no settings"):
                yield chunk
            return
        emitter.pacing = settings.pacing
        token = object()
        self._running[conversation_id] = token

        # The round hands its checkpoint over just before its last chunk; the store gets it before that
        # chunk leaves, so whoever reads the interrupt can resume, here or on another worker.
        handed: list[Session | None] = []

        def commit(session: Session | None) -> None:
            handed.append(session)
            if self._running.get(conversation_id) is token:
                del self._running[conversation_id]

        runner = RoundRunner(self._index, emitter, commit, self._llm)
        if stored is None:
            rounds = runner.start(message, settings, report_template)
        else:
            rounds = runner.resume(replace(stored, settings=settings, calls=calls), interrupt_feedback, message)
        try:
            async for chunk in rounds:
                while handed:
                    await self._keep(conversation_id, handed.pop(0))
                yield chunk
        except Exception as exc:  # the SDK's exception path: report it, end the run, drop the session
            # The error may echo the LLM key (an endpoint's 401 body): masked here, no traceback.
            info = scrub_text(f"{type(exc).__name__}: {exc}", self.secret_values())
            _log.warning("local agent failed on conversation %s: %s", conversation_id, info)
            handed.clear()
            await self._sessions.delete(conversation_id)
            if self._running.get(conversation_id) is token:
                del self._running[conversation_id]
            for chunk in self._framework_error(emitter, info):
                yield chunk
        finally:
            await rounds.aclose()
            if self._running.get(conversation_id) is token:
                del self._running[conversation_id]

    async def _keep(self, conversation_id: str, session: Session | None) -> None:
        if session is None:
            await self._sessions.delete(conversation_id)
        else:
            await self._sessions.save(conversation_id, session)

    def _refusal(self, conversation_id: str, stored: Session | None, feedback: str) -> str | None:
        """Why this call cannot run, in the words of the ``framework`` error it gets (None: it can)."""
        if conversation_id in self._running:
            return (
                f"Conversation {conversation_id!r} is already streaming a round; wait for it to end or cancel it first."
            )
        if stored is None and feedback:
            return (
                f"Conversation {conversation_id!r} is not waiting for an answer, so {feedback!r} cannot "
                "resume it. Start a new research run with interrupt_feedback=''."
            )
        if stored is not None and not feedback:
            # The SDK's checkpointer refuses a fresh input on a waiting conversation and drops the session.
            return (
                f"Conversation {conversation_id!r} was waiting for an answer at {stored.stage.value!r}; "
                "a fresh question needs a new conversation_id, an answer needs a non-empty interrupt_feedback."
            )
        return None

    @staticmethod
    def _framework_error(emitter: Emitter, info: str) -> list[str]:
        """The SDK's exception path: a ``framework`` error chunk, then ``ALL END``."""
        return [
            emitter.framework("error", json.dumps({"exception_info": info}, ensure_ascii=False)),
            emitter.framework("summary_response", ALL_END),
        ]

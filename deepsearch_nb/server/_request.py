"""The run request: the DeepSearch server's ``DeepSearchRequest`` and what this server makes of it.

The fields and ranges are the seed's (protocol reference §4.2) with three defaults changed for an offline
team server: ``info_collector_search_method`` is ``"local"`` (the seed's ``"web"`` needs a search engine
from its database), ``outline_interaction_enabled`` is true (the SDK's default; the seed's form says false)
and ``outliner_max_section_num`` allows up to 15 (the SDK's bound). ``llm_config.api_key`` strings become
``bytearray`` for the SDK, as the seed's ``_prepare_stream_context`` does; they never reach a log line,
an error body (422s carry no values) or Redis (:func:`shareable_config`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, Field

from .._protocol import CONVERSATION_ID_PATTERN, HitlAnswer, InterruptFeedback
from .._secrets import is_secret_key

__all__ = ["DeepSearchRequest", "LocalSearchConfig", "WebSearchConfig", "check_configuration", "shareable_config"]

_LLM_ROLES = ("general", "plan_understanding", "info_collecting", "writing_checking")


class WebSearchConfig(BaseModel):
    """The seed's web search reference: an engine stored on the server, by id."""

    web_search_config_id: int
    max_web_search_results: int = Field(default=5, ge=1, le=10)


class LocalSearchConfig(BaseModel):
    local_search_config_ids: list[str] = Field(default_factory=list)
    max_local_search_results: int = Field(default=5, ge=1, le=10)
    recall_threshold: float = Field(default=0.5, ge=0, le=1)


class DeepSearchRequest(BaseModel):
    """The body of ``POST /api/v1/agent/deepsearch/run/`` (run, answer, or cancel)."""

    space_id: str = Field(min_length=1)
    conversation_id: str = Field(pattern=CONVERSATION_ID_PATTERN)
    message: str
    interrupt_feedback: Literal["", "accepted", "revise_comment", "revise_outline", "cancel"] = ""
    workflow_human_in_the_loop: bool = True
    outline_interaction_enabled: bool = True
    outline_interaction_max_rounds: int = Field(default=3, ge=1, le=100)
    outliner_max_section_num: int = Field(default=5, ge=1, le=15)
    source_tracer_research_trace_source_switch: bool = True
    source_tracer_infer_switch: bool = True
    info_collector_search_method: Literal["web", "local", "all"] = "local"
    web_search_config: WebSearchConfig | None = None
    local_search_config: LocalSearchConfig | None = None
    llm_config: dict[str, Any] = Field(default_factory=dict)
    template_id: int = -1  # > 0: a template stored in this space (the template routes)
    report_template: str = Field(default="", max_length=1_000_000)  # this package's extension: the Markdown itself
    search_mode: Literal["research", "search"] = "research"
    execution_method: Literal["parallel", "dependency_driving"] = "parallel"
    web_search_max_qps: float = Field(default=0, ge=0)

    @property
    def key(self) -> str:
        """The run router's key, ``space_id:conversation_id``."""
        return f"{self.space_id}:{self.conversation_id}"

    def answer(self) -> HitlAnswer:
        """This request as the answer to a paused run (an empty feedback accepts, as the seed's router does)."""
        return HitlAnswer(feedback=InterruptFeedback(self.interrupt_feedback or "accepted"), message=self.message)

    def agent_config(self) -> dict[str, Any]:
        """The ``agent_config`` a run gets: the request's fields, ``llm_config`` by role with keys as bytearray."""
        config = self.model_dump(
            exclude={
                "space_id",
                "conversation_id",
                "message",
                "interrupt_feedback",
                "llm_config",
                "template_id",
                "report_template",
            }
        )
        if self.llm_config:
            config["llm_config"] = _llm_by_role(self.llm_config)
        return config


def _llm_by_role(llm: dict[str, Any]) -> dict[str, Any]:
    """A flat ``{model_name, api_key, ...}`` is the ``general`` model (the seed's rule); keys become bytearray."""
    roles = llm if any(isinstance(llm.get(r), dict) for r in _LLM_ROLES) else {"general": llm}
    out: dict[str, Any] = {}
    for role, conf in roles.items():
        if isinstance(conf, dict):
            out[role] = {
                k: bytearray(v.encode()) if k == "api_key" and isinstance(v, str) else v for k, v in conf.items()
            }
        else:
            out[role] = conf
    return out


def shareable_config(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` without any secret (by key name, and every bytes value): what may be written to Redis.

    A resume on another worker gets the keys again from its own request (clients send their request
    fields with every round), never from the shared store.
    """

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if not is_secret_key(str(k))}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, bytes | bytearray):
            return None
        return value

    cleaned: dict[str, Any] = clean(config)
    return cleaned


def check_configuration(request: DeepSearchRequest) -> None:
    """Refuse what cannot work, before any stream starts (the seed's 400 errors; a template's 404 is
    :func:`template_for`'s)."""
    method = request.info_collector_search_method
    if method in ("web", "all") and request.web_search_config is None:
        raise HTTPException(
            400, f"info_collector_search_method={method!r} needs web_search_config (or use 'local' search)."
        )
    if request.search_mode != "research":
        raise HTTPException(400, "Only search_mode='research' streams the research protocol; use 'research'.")

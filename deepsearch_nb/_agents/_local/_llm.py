"""Optional section writing by an OpenAI-compatible LLM (off by default, needs ``httpx``).

The extractive writer still chooses the evidence: the model gets the numbered sentences the section
would have quoted and is asked to write prose that cites them as ``[citation:N]``. The wording is then
the model's, so the verbatim-quote guarantee of the extractive report no longer holds, and neither does
byte-for-byte determinism; ``citation_messages`` still lists the evidence each number stood for.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..._errors import AgentError, ConfigurationError
from ..._secrets import scrub_logger, scrub_text, secret_values
from .._usage import report_usage

__all__ = ["LlmWriter", "section_messages"]

_SYSTEM = (
    "You write one section of a research report. Use only the numbered evidence you are given. "
    "After every claim put the number of its evidence as [citation:N]. Write one to three paragraphs of "
    "plain Markdown prose: no heading, no preamble, no list of sources, nothing the evidence does not say."
)


def section_messages(
    question: str, title: str, description: str, evidence: Sequence[tuple[int, str]]
) -> list[dict[str, str]]:
    """The chat messages asking for one section."""
    lines = [f"Research question: {question}", f"Section: {title}"]
    if description:
        lines.append(f"What the section covers: {description}")
    lines.append("Evidence:")
    lines += [f"[{number}] {sentence}" for number, sentence in evidence]
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


class LlmWriter:
    """Streams chat completions from ``{base_url}/chat/completions`` (``stream: true``, SSE).

    ``config``: ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``), ``model``, optional ``api_key`` (or
    ``api_key_env``, the environment variable holding it, so the key need not be typed into a
    notebook), ``headers`` (extra HTTP headers, e.g. a gateway's), ``temperature`` (default 0.2),
    ``timeout`` seconds (default 120) and ``transport`` (an ``httpx`` transport, for tests or proxies).
    Every key these hold is a secret of the agent (``LocalResearchAgent.secret_values``).
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        if importlib.util.find_spec("httpx") is None:
            raise ConfigurationError("llm= needs httpx: pip install 'deepsearch-nb[remote]' (or leave llm=None).")
        base_url = config.get("base_url")
        model = config.get("model")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                "llm['base_url'] must be an http(s) URL such as 'http://127.0.0.1:8000/v1', not "
                f"{scrub_text(repr(base_url), secret_values(config))}."  # a URL may carry ?api_key=
            )
        if not isinstance(model, str) or not model:
            raise ConfigurationError("llm['model'] must name the model to use.")
        api_key = config.get("api_key") or ""
        if not isinstance(api_key, str):
            raise ConfigurationError("llm['api_key'] must be a string.")
        key_env = config.get("api_key_env")
        if not api_key and key_env is not None:
            if not isinstance(key_env, str) or not os.environ.get(key_env):
                raise ConfigurationError(f"llm['api_key_env'] names {key_env!r}, which is not set: set it first.")
            api_key = os.environ[key_env]
        headers = config.get("headers") or {}
        if not isinstance(headers, Mapping) or not all(isinstance(v, str) for v in headers.values()):
            raise ConfigurationError("llm['headers'] must be a dict of header names to text values.")
        parts = urlsplit(base_url)  # a query (``?api_key=...``, ``?api-version=...``) stays after the path
        self._url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/chat/completions"))
        # What an endpoint may echo back in an error (its 401 body quoting the key or the headers).
        self._secrets = secret_values({"api_key": api_key, "headers": headers, "base_url": base_url})
        scrub_logger("httpx")  # httpx logs each request's URL, which may carry that key
        self._model = model
        self._headers = {str(k): v for k, v in headers.items()}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._temperature = float(config.get("temperature", 0.2))
        self._timeout = float(config.get("timeout", 120.0))
        self._transport = config.get("transport")

    def __repr__(self) -> str:  # never show the key
        return f"LlmWriter(url={self._scrub(repr(self._url))}, model={self._model!r})"

    def _scrub(self, text: str) -> str:
        """``text`` without the keys this writer sends: errors are where an endpoint echoes them."""
        return scrub_text(text, self._secrets)

    async def stream(self, messages: list[dict[str, str]], *, stage: str = "llm") -> AsyncIterator[str]:
        """The text deltas of one completion; raises :class:`AgentError` saying what went wrong.

        It asks for ``stream_options.include_usage``: the endpoint's token counts of the call (its last
        frame) are reported to the run under ``stage`` (``report_usage``), exactly as sent.
        """
        import httpx

        body = {
            "model": self._model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": self._temperature,
        }
        try:
            async with (
                httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client,
                client.stream("POST", self._url, json=body, headers=self._headers) as response,
            ):
                if response.status_code != 200:
                    detail = (await response.aread()).decode("utf-8", errors="replace")[:300]
                    raise AgentError(
                        self._scrub(f"The LLM at {self._url} answered HTTP {response.status_code}: {detail}")
                    )
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        break
                    delta, usage = _delta(data)
                    if usage is not None:
                        report_usage(stage, *usage, model=self._model)
                    if delta:
                        yield delta
        except httpx.HTTPError as exc:
            raise AgentError(self._scrub(f"The LLM at {self._url} could not be reached: {exc!r}")) from exc


def _delta(data: str) -> tuple[str, tuple[int, int] | None]:
    """The text of one frame, and its ``usage`` (prompt, completion tokens) when it carries one."""
    try:
        frame = json.loads(data)
        choices = frame["choices"]
        text = str((choices[0].get("delta") or {}).get("content") or "") if choices else ""
        usage = frame.get("usage")
        if isinstance(usage, Mapping):
            return text, (int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        return text, None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise AgentError(f"The LLM sent a chunk that is not a chat completion: {data[:200]}") from exc

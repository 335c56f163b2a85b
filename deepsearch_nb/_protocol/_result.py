"""The final result of a research run and the sources its report cites."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FinalResult", "Source", "parse_reference_articles"]


class Source(BaseModel):
    """A document the agent collected; ``index`` is the number citations use (``[citation:N]``)."""

    model_config = ConfigDict(extra="allow")

    index: int = Field(ge=1)
    title: str
    url: str
    query: str = ""


class FinalResult(BaseModel):
    """The ``FinalResult`` JSON of the ``end`` chunk (openJiuwen ``search_context.py``)."""

    model_config = ConfigDict(extra="allow")

    response_content: str = ""
    response_content_type: str = "text/markdown"
    citation_messages: dict[str, Any] = Field(default_factory=dict)
    infer_messages: list[Any] = Field(default_factory=list)
    chart_messages: list[Any] = Field(default_factory=list)
    workflow_llm_token_usage: dict[str, Any] = Field(default_factory=dict)
    warning_info: str = ""
    exception_info: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.exception_info)

    @classmethod
    def from_content(cls, content: str) -> FinalResult:
        """Parse the ``content`` of an ``end`` chunk; raises ``ValueError`` when it is not a result."""
        data = json.loads(content)
        if not isinstance(data, dict):
            raise ValueError("the final result is not a JSON object")
        return cls.model_validate(data)

    def sources(self) -> list[Source]:
        """The sources listed under the report's ``# Reference Articles`` heading."""
        return parse_reference_articles(self.response_content)


_REFERENCE_HEADING = re.compile(r"^#{1,6}\s*Reference Articles\s*$", re.MULTILINE)
# The url runs to the line's last ")": local paths may hold spaces or parentheses; <...> is unwrapped.
_REFERENCE_LINE = re.compile(r"^[ \t]*\[(\d+)\][ \t]*\[(?P<title>[^\]\n]*)\]\((?P<url>[^\n]*)\)[ \t]*$", re.MULTILINE)


def parse_reference_articles(markdown: str) -> list[Source]:
    """Read ``[N] [title](url)`` lines after the ``# Reference Articles`` heading, in the agent's format."""
    heading = _REFERENCE_HEADING.search(markdown)
    if heading is None:
        return []
    tail = markdown[heading.end() :]
    return [
        Source(index=int(m.group(1)), title=m.group("title"), url=_unwrap(m.group("url").strip()))
        for m in _REFERENCE_LINE.finditer(tail)
    ]


def _unwrap(url: str) -> str:
    return url[1:-1] if url.startswith("<") and url.endswith(">") else url

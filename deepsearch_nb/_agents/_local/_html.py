"""Visible text of an HTML document, as the corpus reads it: paragraphs, the title, the source link.

Apart from ``_corpus`` (which reads every format) so that each module stays small.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ._text import normalize_space

__all__ = ["SOURCE_LINE", "read_html"]

# A ``source: <url>`` line names where a document comes from (Markdown, text and HTML alike).
SOURCE_LINE = re.compile(r"^\s*source\s*:\s*(\S+)\s*$", re.IGNORECASE)

_BLOCK_TAG_TEXT = "p div li ul ol br tr td th section article header footer main aside blockquote pre table dd dt"
_BLOCK_TAGS = frozenset(_BLOCK_TAG_TEXT.split())
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class _HtmlText(HTMLParser):
    """Collects visible text as paragraphs; headings and ``<title>`` are kept apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.first_heading = ""
        self.url = ""
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skip = 0
        self._in_title = False
        self._in_heading = False
        self._heading: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "link" and values.get("rel", "").lower() == "canonical" and not self.url:
            self.url = values.get("href", "")
        elif tag == "meta" and values.get("name", "").lower() == "source" and not self.url:
            self.url = values.get("content", "")
        elif tag in _HEADINGS:
            self._flush()
            self._in_heading = True
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _HEADINGS:
            self._in_heading = False
            self.first_heading = self.first_heading or normalize_space("".join(self._heading))
            self._heading.clear()
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._skip:
            return
        elif self._in_heading:
            self._heading.append(data)
        else:
            self._current.append(data)

    def _flush(self) -> None:
        text = normalize_space("".join(self._current))
        self._current.clear()
        source = SOURCE_LINE.match(text)
        if source:
            self.url = self.url or source.group(1)
        elif text:
            self.paragraphs.append(text)

    def close(self) -> None:
        super().close()
        self._flush()


def read_html(text: str) -> tuple[str, str, tuple[str, ...]]:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    title = normalize_space(parser.title) or parser.first_heading
    return title, parser.url, tuple(parser.paragraphs)

"""What a citation stands for, as the fallbacks show it: the passage, the source's title, where it is,
and the check's verdict (a weak citation is marked in the text). Everything is read defensively from
the document's ``evidence`` and ``citation_check``, as plain text for the renderers to escape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["_Cite", "_Citer", "_list"]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


@dataclass(frozen=True, slots=True)
class _Cite:
    """What one ``[citation:N]`` stands for, as a reader is shown it (every field plain text)."""

    status: str  # verified, weak, missing_source, unverifiable; "" when the report was not checked
    passage: str
    title: str
    location: str  # "file.md, line 5 (Section)" or the URL

    @property
    def mark(self) -> str:
        """What follows N in the text: ``?`` for a weak citation, ``!`` for one whose source fails."""
        return {"weak": "?", "missing_source": "!"}.get(self.status, "")

    def tooltip(self) -> str:
        where = ", ".join(p for p in (self.title, self.location) if p)
        status = _STATUS_WORDS.get(self.status, "")
        quoted = f"“{self.passage}”" if self.passage else "(no passage)"
        return " ".join(f"{quoted} — {where}{f' [{status}]' if status else ''}".split())


_STATUS_WORDS = {
    "verified": "verified",
    "weak": "weak: the passage does not support the sentence",
    "missing_source": "missing source: the passage is not in its source now",
    "unverifiable": "unverifiable: the source's content was not available",
}


class _Citer:
    """Hands out the evidence of each marker in reading order: the k-th ``[citation:N]`` of number N is
    the k-th check entry with that N (so a marker a renderer skips cannot shift every later one)."""

    def __init__(self, evidence: Mapping[str, Any], markers: Sequence[Mapping[str, Any]]) -> None:
        self._evidence = evidence
        self._seen: dict[int, int] = {}
        self._by_number: dict[int, list[Mapping[str, Any]]] = {}
        for marker in markers:
            n = marker.get("n")
            if isinstance(n, int):
                self._by_number.setdefault(n, []).append(marker)

    def next(self, n: int) -> _Cite | None:
        k = self._seen.get(n, 0)
        self._seen[n] = k + 1
        evidence = _mapping(self._evidence.get(str(n)))
        markers = self._by_number.get(n, [])
        marker = markers[k] if k < len(markers) else {}
        if not evidence and not marker:
            return None
        passages = [p for p in _list(evidence.get("passages")) if isinstance(p, Mapping)]
        index = marker.get("passage")
        chosen = passages[index] if isinstance(index, int) and 0 <= index < len(passages) else {}
        if not chosen and passages and not marker:
            chosen = passages[0]
        location = _text(evidence.get("location") or evidence.get("url"))
        if chosen.get("line"):
            location += f", line {_text(chosen.get('line'))}"
        section = " ".join(_text(chosen.get("section")).split())
        if section and section != " ".join(_text(evidence.get("title")).split()):
            location += f" ({section})"
        return _Cite(
            status=_text(marker.get("status")),
            passage=" ".join(_text(chosen.get("text")).split()),
            title=" ".join(_text(evidence.get("title")).split()),
            location=" ".join(location.split()),
        )

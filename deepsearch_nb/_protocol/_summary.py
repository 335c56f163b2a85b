"""One readable line for a payload the agent streams as JSON (an outline, a section's plan).

A person following the stream wants "Outline: 4 sections (...)", not the raw JSON; the progress fold
produces this line once the payload is complete, so no front end parses the JSON a second time.
"""

from __future__ import annotations

import json

from ._values import AgentName

__all__ = ["summarise_payload"]


def summarise_payload(agent: str, text: str) -> str:
    """The summary line of an outline or plan JSON (the raw text if it is not what we expect)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    title = str(data.get("title") or "")
    if agent == AgentName.OUTLINE:
        sections = [str(s.get("title", "")) for s in data.get("sections", []) if isinstance(s, dict)]
        return f"Outline \u201c{title}\u201d: {len(sections)} sections ({'; '.join(sections)})"
    steps = [
        str(step.get("title") or step.get("description") or "")
        for step in data.get("steps", [])
        if isinstance(step, dict)
    ]
    thought = str(data.get("thought") or "").strip()
    line = f"Plan \u201c{title}\u201d" + (f": {'; '.join(s for s in steps if s)}" if steps else "")
    return line + (f" \u2014 {thought}" if thought else "")

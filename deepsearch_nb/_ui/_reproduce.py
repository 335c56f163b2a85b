"""What makes a notebook run reproducible beyond its report: where its transcript goes, and whether the
documents a report was researched from are still the ones on disk.

Transcripts go to ``.deepsearch/transcripts/<conversation_id>.jsonl`` under the working directory (the
notebook's folder when Jupyter started the kernel there), or under ``$DEEPSEARCH_NB_TRANSCRIPTS`` when
that is set, so they sit next to the notebook that made them and travel with it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._agents._local._fingerprint import fingerprint_changes
from .._agents._select import agent_from_spec
from .._errors import ConfigurationError
from ..agents import Agent, SupportsSpec

__all__ = [
    "TRANSCRIPT_DIR_ENV",
    "agent_of",
    "check_corpus",
    "default_transcript_dir",
    "resume_hint",
    "transcript_path",
]

TRANSCRIPT_DIR_ENV = "DEEPSEARCH_NB_TRANSCRIPTS"
"""An environment variable naming the folder for transcripts (instead of ``.deepsearch/transcripts``)."""


def default_transcript_dir() -> Path:
    """``$DEEPSEARCH_NB_TRANSCRIPTS``, else ``.deepsearch/transcripts`` under the working directory."""
    configured = os.environ.get(TRANSCRIPT_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.cwd() / ".deepsearch" / "transcripts"


def transcript_path(option: str | Path | bool | None, conversation_id: str) -> Path | None:
    """Where ``research(transcript=option)`` writes: ``None``/``True`` the default folder, ``False`` nowhere,
    a folder (existing, or written with a trailing slash) gets ``<conversation_id>.jsonl``, else that file."""
    if option is False:
        return None
    if option is None or option is True:
        return default_transcript_dir() / f"{conversation_id}.jsonl"
    if not isinstance(option, str | Path):
        raise ConfigurationError(f"transcript must be a path, True, False or None, not {type(option).__name__}.")
    path = Path(option).expanduser()
    if path.is_dir() or str(option).endswith(("/", os.sep)):
        return path / f"{conversation_id}.jsonl"
    return path


def check_corpus(recorded_agent: Mapping[str, Any], agent: Agent) -> None:
    """Refuse to reproduce over documents that changed since the report: name each changed file.

    Compares the corpus fingerprint the report's spec recorded with the rebuilt agent's (which hashed the
    files as it read them). A report without a recorded fingerprint (an older report) is not checked.
    """
    spec = recorded_agent.get("spec")
    recorded = spec.get("config", {}).get("corpus_fingerprint") if isinstance(spec, Mapping) else None
    if not isinstance(recorded, Mapping) or not isinstance(agent, SupportsSpec):
        return
    current = agent.spec()["config"].get("corpus_fingerprint")
    if not isinstance(current, Mapping):
        return
    changes = fingerprint_changes(recorded, current)
    if changes:
        where = spec.get("config", {}).get("corpus") if isinstance(spec, Mapping) else None
        raise ConfigurationError(
            f"The corpus {where or '(the shipped demo corpus)'} is not the one this report was researched from: "
            f"{'; '.join(changes)}. Restore those files to reproduce the report, or run research() again "
            "for a new one."
        )


def agent_of(recorded: Mapping[str, Any]) -> Agent:
    """The agent a report names: rebuilt from its spec (keys from the environment), or refused."""
    spec = recorded.get("spec")
    if isinstance(spec, Mapping):
        return agent_from_spec(spec)
    kind = str(recorded.get("kind", ""))
    if kind in ("local", "LocalResearchAgent"):
        from .._agents._local import LocalResearchAgent

        return LocalResearchAgent()  # a report from before agents recorded their spec: the demo corpus
    raise ConfigurationError(
        f"This report was made by a {kind!r} agent that recorded no spec, so it cannot be rebuilt: "
        "pass the agent yourself, reproduce(report, agent=...)."
    )


def resume_hint(transcript: Path | None) -> str:
    """The sentence a headless run's timeout ends with: the exact line that picks it up in JupyterLab."""
    if transcript is None:
        return ""
    return f" To go on from this stop in JupyterLab, run: deepsearch_nb.resume({str(transcript)!r})"

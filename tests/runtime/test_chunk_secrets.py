"""A chunk that echoes the run's key is masked before any observer sees it; other chunks pass untouched."""

from __future__ import annotations

from collections.abc import Sequence

from deepsearch_nb.runtime import ChunkReceived, RunEvent, RunManager
from deepsearch_nb.testing import ScriptedAgent, chunk, report_round

KEY = "f3a9c1d2e4b5a6978877665544332211"


class KeyedAgent(ScriptedAgent):
    def secret_values(self) -> Sequence[str]:
        return [KEY]


async def test_an_echoed_key_is_masked_in_the_chunk_and_its_events(manager: RunManager) -> None:
    echo = chunk("sub_reporter", "message", f"the endpoint said: bad key {KEY}", section_idx="1")
    run = manager.start(KeyedAgent([echo, *report_round(["fine text"])]), "q")
    seen: list[str] = []

    def on_event(event: RunEvent) -> None:
        if isinstance(event, ChunkReceived):
            seen.append(event.chunk.to_wire())

    run.subscribe(on_event)
    await run
    assert KEY not in "".join(seen) and KEY not in "".join(c.to_wire() for c in run.chunks)
    assert run.chunks[0].content == "the endpoint said: bad key ***"
    assert "fine text" in run.report_markdown  # chunks without the key are kept as they came

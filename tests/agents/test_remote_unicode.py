"""Issue 9, finding 4, over HTTP: a chunk with lone surrogates streams from the server as valid UTF-8."""

from __future__ import annotations

import json
from typing import Any

import httpx

from deepsearch_nb._agents._remote import sse_data
from deepsearch_nb.server import create_app
from deepsearch_nb.testing import LoopbackServer, ScriptedAgent, chunk, report_round


async def test_finding4_the_server_streams_repaired_text_not_a_unicode_error() -> None:
    agent = ScriptedAgent([chunk("report", "message", "tea\ud800 leaves"), *report_round(["Text\udfff."])])
    with LoopbackServer(create_app(lambda request: agent), log_level="warning") as server:
        body: dict[str, Any] = {"space_id": "s", "conversation_id": "c1", "message": "tea\ud800?"}
        body |= {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream(
                "POST",
                f"{server.url}/api/v1/agent/deepsearch/run/",
                content=json.dumps(body).encode(),  # the JSON escape \ud800, as a client sends it
                headers={"content-type": "application/json"},
            ) as response,
        ):
            assert response.status_code == 200
            chunks = [json.loads(data) async for data in sse_data(response.aiter_lines())]
    contents = [c.get("content", "") for c in chunks]
    assert "tea\ufffd leaves" in contents
    assert contents[-1] == "ALL END" or any(c == "ALL END" for c in contents)

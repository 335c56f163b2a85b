"""Issue 9, finding 4, over HTTP: a chunk with lone surrogates streams from the server as valid UTF-8."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import uvicorn

from deepsearch_nb._agents._remote import sse_data
from deepsearch_nb.server import create_app
from deepsearch_nb.testing import ScriptedAgent, chunk, report_round

from .test_remote import _free_port


async def test_finding4_the_server_streams_repaired_text_not_a_unicode_error() -> None:
    agent = ScriptedAgent([chunk("report", "message", "tea\ud800 leaves"), *report_round(["Text\udfff."])])
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(lambda request: agent), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(400):
            if server.started:
                break
            threading.Event().wait(0.025)
        body: dict[str, Any] = {"space_id": "s", "conversation_id": "c1", "message": "tea\ud800?"}
        body |= {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream(
                "POST",
                f"http://127.0.0.1:{port}/api/v1/agent/deepsearch/run/",
                content=json.dumps(body).encode(),  # the JSON escape \ud800, as a client sends it
                headers={"content-type": "application/json"},
            ) as response,
        ):
            assert response.status_code == 200
            chunks = [json.loads(data) async for data in sse_data(response.aiter_lines())]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    contents = [c.get("content", "") for c in chunks]
    assert "tea\ufffd leaves" in contents
    assert contents[-1] == "ALL END" or any(c == "ALL END" for c in contents)

"""The team server's report templates (issue 17), against ``deepsearch-nb serve`` on 127.0.0.1: the routes
(import, update, list, get, delete), one space blind to another's templates, 404 with a readable detail,
servers on one SQLite file sharing them, and a notebook's remote run by ``template_id``."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deepsearch_nb import RemoteAgent, RunState, research
from deepsearch_nb.agents import DEMO_QUESTION
from deepsearch_nb.runtime import RunManager

from ._support import TOKEN, ServerProcess

TEMPLATES = "/api/v1/agent/deepsearch/template"
ANSWERS = ["Focus on costs and fire safety.", "accept"]
MEMO = "# Storage Decision Memo\n\n## Cost Picture\nCosts.\n\n## Safety Record\nFires.\n\n## Open Questions\n"


@pytest.fixture(scope="module")
def db() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="deepsearch-templates-") as folder:
        yield f"sqlite:///{Path(folder) / 'templates.sqlite3'}"


@pytest.fixture(scope="module")
def server(db: str) -> Iterator[ServerProcess]:
    """One worker, no Redis, its templates in ``db``."""
    process = ServerProcess(None, template_db=db)
    try:
        yield process
    finally:
        process.close()


@pytest.fixture
async def client(server: ServerProcess) -> Any:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=10) as http:
        yield http


def sections(markdown: str) -> list[str]:
    return re.findall(r"^# \d+\. (.+)$", markdown, re.MULTILINE)


async def test_import_update_list_get_delete(client: httpx.AsyncClient) -> None:
    made = await client.post(TEMPLATES, json={"space_id": "crud", "template_name": "memo", "template_content": MEMO})
    assert made.status_code == 200, made.text
    template = made.json()
    tid = template["template_id"]
    assert tid > 0 and template["template_name"] == "memo" and len(template["sha256"]) == 64
    listed = (await client.get(f"{TEMPLATES}/crud")).json()["templates"]
    assert [(t["template_id"], t["template_name"]) for t in listed] == [(tid, "memo")]
    assert "template_content" not in listed[0]  # a listing is light; get gives the content
    assert (await client.get(f"{TEMPLATES}/crud/{tid}")).json()["template_content"] == MEMO
    changed = MEMO + "\n## Next Steps\n"
    updated = await client.put(TEMPLATES, json={"space_id": "crud", "template_id": tid, "template_content": changed})
    assert updated.status_code == 200, updated.text
    assert updated.json()["template_name"] == "memo" and updated.json()["sha256"] != template["sha256"]
    assert (await client.get(f"{TEMPLATES}/crud/{tid}")).json()["template_content"] == changed
    deleted = await client.delete(f"{TEMPLATES}/crud/{tid}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert (await client.get(f"{TEMPLATES}/crud/{tid}")).status_code == 404
    assert (await client.get(f"{TEMPLATES}/crud")).json()["templates"] == []


async def test_another_space_cannot_read_change_or_delete_a_template(client: httpx.AsyncClient) -> None:
    made = await client.post(
        TEMPLATES + "/", json={"space_id": "team-a", "template_name": "memo", "template_content": MEMO}
    )
    tid = made.json()["template_id"]
    assert tid not in [t["template_id"] for t in (await client.get(f"{TEMPLATES}/team-b")).json()["templates"]]
    for response in (
        await client.get(f"{TEMPLATES}/team-b/{tid}"),
        await client.put(TEMPLATES, json={"space_id": "team-b", "template_id": tid, "template_name": "mine now"}),
        await client.delete(f"{TEMPLATES}/team-b/{tid}"),
    ):
        assert response.status_code == 404
        assert f"Report template {tid} was not found in space 'team-b'" in response.json()["detail"]
    kept = (await client.get(f"{TEMPLATES}/team-a/{tid}")).json()
    assert kept["template_name"] == "memo" and kept["template_content"] == MEMO


async def test_unknown_ids_and_bad_bodies_are_refused_readably(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{TEMPLATES}/crud/987654")
    assert missing.status_code == 404
    assert "GET /api/v1/agent/deepsearch/template/crud" in missing.json()["detail"]  # says what to do
    blank = await client.post(TEMPLATES, json={"space_id": "crud", "template_name": "x", "template_content": " \n"})
    assert blank.status_code == 400 and "blank" in blank.json()["detail"]
    assert (await client.post(TEMPLATES, json={"space_id": "crud"})).status_code == 422
    run = await client.post(
        "/api/v1/agent/deepsearch/run/",
        json={"space_id": "crud", "conversation_id": "conv_tpl_404", "message": "q", "template_id": 987654},
    )
    assert run.status_code == 404 and "Report template 987654 was not found in space 'crud'" in run.json()["detail"]


async def test_every_template_route_needs_the_token(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as anonymous:
        assert (await anonymous.get(f"{TEMPLATES}/crud")).status_code == 401
        assert (await anonymous.post(TEMPLATES, json={})).status_code == 401


async def test_a_remote_run_by_template_id_follows_the_stored_template(
    server: ServerProcess, client: httpx.AsyncClient
) -> None:
    made = await client.post(TEMPLATES, json={"space_id": "team-a", "template_name": "memo", "template_content": MEMO})
    tid = made.json()["template_id"]
    agent = RemoteAgent(server.url, token=TOKEN, space_id="team-a", request={"template_id": tid})
    manager = RunManager(cancel_grace_s=0.5)
    try:
        report = await research(
            DEMO_QUESTION, agent=agent, answers=ANSWERS, manager=manager, display=False, transcript=False
        )
        assert report.status == "COMPLETED", report.error
        assert sections(report.markdown) == ["Cost Picture", "Safety Record", "Open Questions"]
        assert report.doc["agent"]["spec"]["config"]["request"]["template_id"] == tid  # reproduce() asks again
        # Another space asking for that id gets the 404, as the notebook's run error.
        other = RemoteAgent(server.url, token=TOKEN, space_id="team-b", request={"template_id": tid})
        try:
            run = manager.start(other, DEMO_QUESTION)
            await run.wait(30)
            assert run.state is RunState.FAILED
            assert "HTTP 404" in (run.error or "") and "not found in space 'team-b'" in (run.error or "")
        finally:
            await other.aclose()
    finally:
        await manager.aclose(5)
        await agent.aclose()


async def test_a_template_given_in_the_notebook_reaches_the_server(server: ServerProcess) -> None:
    agent = RemoteAgent(server.url, token=TOKEN, space_id="team-c")
    manager = RunManager(cancel_grace_s=0.5)
    try:
        report = await research(
            DEMO_QUESTION, agent=agent, template=MEMO, answers=ANSWERS, manager=manager, display=False, transcript=False
        )
        assert report.status == "COMPLETED", report.error
        assert sections(report.markdown) == ["Cost Picture", "Safety Record", "Open Questions"]
        assert report.doc["template"]["name"] == "Storage Decision Memo"
    finally:
        await manager.aclose(5)
        await agent.aclose()


async def test_templates_are_shared_by_servers_on_one_database_file(server: ServerProcess, db: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=10) as http:
        made = await http.post(
            TEMPLATES, json={"space_id": "durable", "template_name": "memo", "template_content": MEMO}
        )
        tid = made.json()["template_id"]
    other = ServerProcess(None, template_db=db)  # a second process on the same SQLite file
    try:
        async with httpx.AsyncClient(base_url=other.url, headers=other.headers, timeout=10) as http:
            assert (await http.get(f"{TEMPLATES}/durable/{tid}")).json()["template_content"] == MEMO
            renamed = {"space_id": "durable", "template_id": tid, "template_name": "memo v2"}
            assert (await http.put(TEMPLATES, json=renamed)).status_code == 200
    finally:
        other.close()
    again = ServerProcess(None, template_db=db)  # started after the change: it lives in the file
    try:
        async with httpx.AsyncClient(base_url=again.url, headers=again.headers, timeout=10) as http:
            kept = (await http.get(f"{TEMPLATES}/durable/{tid}")).json()
            assert kept["template_name"] == "memo v2" and kept["template_content"] == MEMO
    finally:
        again.close()


def test_serve_refuses_a_template_database_url_it_cannot_read() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deepsearch_nb.cli", "serve", "--template-db", "no database here"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "is not a SQLAlchemy URL" in done.stderr and "sqlite:///" in done.stderr

"""Reproducible reports (issue 11): every run leaves a transcript, a replay gives the same report or says
where it diverged, ``reproduce()`` refuses a changed corpus, exports carry sources and provenance and
stay inert, and no secret reaches any of them."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

import deepsearch_nb
from deepsearch_nb import DEMO_ANSWERS, DEMO_QUESTION, ConfigurationError, LocalResearchAgent, Report, RunState
from deepsearch_nb.runtime import RunManager, read_transcript

SECRET = "sk-test-transcript-9f8e7d6c5b4a"
# The recorded answers: a clarification, an outline revise, then accept.
ANSWERS = list(DEMO_ANSWERS)
# What differs between two faithful runs of the same research (ids, times, who answered, where written).
VOLATILE = ("timings", "conversation_id", "agent", "transcript", "provenance")
CORPUS = Path(deepsearch_nb.__file__).parent / "data" / "corpus"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A custom corpus: a copy of the shipped one, so a test may edit a file."""
    return Path(shutil.copytree(CORPUS, tmp_path / "corpus")).resolve()


@pytest.fixture
def manager() -> RunManager:
    return RunManager()


async def record(manager: RunManager, corpus: Path, tmp_path: Path) -> tuple[Report, Path]:
    transcript = tmp_path / "t" / "run.jsonl"
    report = await deepsearch_nb.research(
        DEMO_QUESTION,
        agent=LocalResearchAgent(corpus),
        answers=ANSWERS,
        manager=manager,
        display=False,
        transcript=transcript,
        agent_config={"llm_config": {"api_key": SECRET}},
    )
    assert report.status == "COMPLETED"
    return report, transcript


def stable(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in VOLATILE}
    out["hitl"] = [{k: v for k, v in h.items() if k != "by"} for h in out["hitl"]]
    return out


def answers_of(transcript: Any) -> list[dict[str, str]]:
    return [{"feedback": a["feedback"], "message": a["message"]} for a in transcript.answers]


async def test_a_run_writes_its_transcript_as_it_goes(manager: RunManager, corpus: Path, tmp_path: Path) -> None:
    report, path = await record(manager, corpus, tmp_path)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    header = lines[0]
    assert header["type"] == "header" and header["question"] == DEMO_QUESTION
    assert header["agent"]["spec"]["config"]["corpus"] == str(corpus)
    fingerprint = header["corpus"]["fingerprint"]
    assert "costs-capital.md" in fingerprint["documents"] and len(fingerprint["sha256"]) == 64
    assert header["versions"]["deepsearch_nb"] == deepsearch_nb.__version__
    kinds = [line["type"] for line in lines]
    assert kinds.count("question") == 3 and kinds[-1] == "end" and lines[-1]["state"] == "COMPLETED"
    answers = [line for line in lines if line["type"] == "answer"]
    assert [(a["feedback"], a["by"]) for a in answers] == [
        ("accepted", "scripted"),
        ("revise_comment", "scripted"),
        ("accepted", "scripted"),
    ]
    chunk_times = [line["t"] for line in lines if line["type"] == "chunk"]
    assert chunk_times == sorted(chunk_times) and len(chunk_times) > 100
    assert report.doc["transcript"] == str(path)
    provenance = report.doc["provenance"]
    assert provenance["corpus"]["sha256"] == fingerprint["sha256"] and provenance["transcript"] == str(path)
    assert SECRET not in path.read_text(encoding="utf-8")


async def test_the_default_transcript_sits_next_to_the_notebook(
    manager: RunManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEEPSEARCH_NB_TRANSCRIPTS", raising=False)
    monkeypatch.chdir(tmp_path)
    handle = deepsearch_nb.research(DEMO_QUESTION, answers=ANSWERS, manager=manager, display=False)
    report = await handle
    expected = tmp_path / ".deepsearch" / "transcripts" / f"{handle.conversation_id}.jsonl"
    assert handle.transcript == expected and expected.exists() and report.doc["transcript"] == str(expected)
    off = await deepsearch_nb.research(DEMO_QUESTION, answers=ANSWERS, manager=manager, display=False, transcript=False)
    assert "transcript" not in off.doc and len(list(expected.parent.iterdir())) == 1


async def test_a_crash_keeps_what_came(manager: RunManager, corpus: Path, tmp_path: Path) -> None:
    _, path = await record(manager, corpus, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:200]) + "\n" + lines[200][:17], encoding="utf-8")  # died mid-line
    transcript = read_transcript(cut)
    kept = sum(1 for line in lines[1:200] if json.loads(line)["type"] == "chunk")
    assert not transcript.complete and len(transcript.chunks()) == kept > 0


async def test_a_replay_gives_the_byte_identical_report(manager: RunManager, corpus: Path, tmp_path: Path) -> None:
    original, path = await record(manager, corpus, tmp_path)
    transcript = read_transcript(path)
    replayed = await deepsearch_nb.research(
        transcript.question,
        agent=transcript.replay_agent(),
        answers=answers_of(transcript),
        manager=manager,
        display=False,
        transcript=tmp_path / "replay.jsonl",
    )
    assert replayed.status == "COMPLETED"
    assert replayed.markdown.encode() == original.markdown.encode()
    assert json.dumps(stable(replayed.doc), sort_keys=True) == json.dumps(stable(original.doc), sort_keys=True)
    comparison = deepsearch_nb.compare(original, replayed)
    assert comparison.identical and "identical" in str(comparison)
    assert deepsearch_nb.compare(original, path).identical  # a report against the transcript it came from
    assert deepsearch_nb.compare(path, tmp_path / "replay.jsonl").identical


async def test_replaying_a_different_answer_diverges_at_that_stop(
    manager: RunManager, corpus: Path, tmp_path: Path
) -> None:
    _, path = await record(manager, corpus, tmp_path)
    transcript = read_transcript(path)
    answers = [ANSWERS[0], "revise: add a section on hydrogen instead", "accept"]
    report = await deepsearch_nb.research(
        transcript.question, agent=transcript.replay_agent(), answers=answers, manager=manager, display=False
    )
    assert report.status == RunState.FAILED.value
    assert report.error is not None and "diverged" in report.error and "stop 2" in report.error
    assert "hydrogen" in report.error and "supply chain" in report.error
    assert len(report.doc["hitl"]) == 2  # it stopped at the second question, not after the recorded ending
    other = await deepsearch_nb.research(
        "Something else?", agent=transcript.replay_agent(), answers=ANSWERS, manager=manager, display=False
    )
    assert other.status == "FAILED" and "the question differs" in (other.error or "")
    assert not deepsearch_nb.compare(path, report).identical


async def test_replay_at_recorded_speed_takes_the_recorded_time(tmp_path: Path, manager: RunManager) -> None:
    agent = LocalResearchAgent(pacing=0.002)
    path = tmp_path / "paced.jsonl"
    await deepsearch_nb.research(
        DEMO_QUESTION,
        agent=agent,
        answers=ANSWERS,
        manager=manager,
        display=False,
        transcript=path,
        agent_config={"outliner_max_section_num": 1},
    )
    transcript = read_transcript(path)
    recorded = sum(times[-1] - times[0] for times in transcript.times if times)
    replay = await deepsearch_nb.research(
        DEMO_QUESTION,
        agent=transcript.replay_agent(speed=1.0),
        answers=answers_of(transcript),
        manager=manager,
        display=False,
        transcript=False,
    )
    instant = await deepsearch_nb.research(
        DEMO_QUESTION,
        agent=transcript.replay_agent(),
        answers=answers_of(transcript),
        manager=manager,
        display=False,
        transcript=False,
    )
    assert replay.status == instant.status == "COMPLETED"
    assert replay.doc["timings"]["elapsed_s"] >= 0.8 * recorded > instant.doc["timings"]["elapsed_s"]


async def test_reproduce_a_custom_corpus_report_then_refuse_an_edited_corpus(
    manager: RunManager, corpus: Path, tmp_path: Path
) -> None:
    original, _ = await record(manager, corpus, tmp_path)
    saved = original.save(tmp_path / "report.json")
    handle = deepsearch_nb.reproduce(saved, manager=manager, display=False, transcript=False)
    again = await handle
    assert again.markdown == original.markdown and stable(again.doc) == stable(original.doc)
    assert handle.comparison is not None and handle.comparison.identical
    assert again.comparison is handle.comparison and "original vs reproduced: identical" in str(again.comparison)
    edited = corpus / "costs-capital.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nA new sentence about costs.\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"changed: costs-capital\.md") as refused:
        deepsearch_nb.reproduce(saved, manager=manager, display=False, transcript=False)
    assert str(corpus) in str(refused.value)
    assert manager.stats().is_idle


async def test_reproduce_reports_divergence_with_a_readable_diff(
    manager: RunManager, corpus: Path, tmp_path: Path
) -> None:
    original, _ = await record(manager, corpus, tmp_path)
    other = ["Only fire safety, please.", "accept"]
    handle = deepsearch_nb.reproduce(original, answers=other, manager=manager, display=False, transcript=False)
    await handle
    comparison = handle.comparison
    assert comparison is not None and not comparison.identical
    assert {"answers", "outline", "text"} <= set(comparison.aspects())
    text = str(comparison)
    assert "diverged" in text and "the answer at stop 1 differs" in text and "Only fire safety" in text
    page = comparison._repr_html_()
    assert "DIVERGED" in page and "<script" not in page


async def test_exports_carry_sources_and_provenance_and_no_secret(
    manager: RunManager, corpus: Path, tmp_path: Path
) -> None:
    report, transcript = await record(manager, corpus, tmp_path)
    md = report.save(tmp_path / "r.md").read_text(encoding="utf-8")
    assert "## Sources" in md and "## Provenance" in md and "Corpus fingerprint: sha256" in md
    assert "Answer 2: Outline review: asked for changes (by scripted)" in md
    page = report.save(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script" not in page and "src=" not in page and "default-src 'none'" in page
    assert 'href="#source-1"' in page and 'id="source-1"' in page and str(transcript) in page
    docx_path = report.save(tmp_path / "r.docx")
    for text in (md, page, zipfile.ZipFile(docx_path).read("word/document.xml").decode(), transcript.read_text()):
        assert SECRET not in text


def test_docx_holds_headings_citations_and_sources(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    fixture = Path(__file__).parents[1] / "data" / "reports" / "completed.json"
    report = Report.load(fixture)
    document = docx.Document(str(report.save(tmp_path / "r.docx")))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert "Sources" in headings and "Provenance" in headings and report.title in headings[0]
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Portuguese traders [4]" in body and "[citation:4]" not in body  # citations as [N]
    assert "[1. Ori" not in body  # Markdown links become their text
    for source in report.sources:
        assert f"[{source.index}] {source.title}" in body


def test_the_hostile_report_stays_inert_in_html_and_docx(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    hostile = Report.load(Path(__file__).parents[1] / "data" / "reports" / "hostile.json")
    page = hostile.save(tmp_path / "h.html").read_text(encoding="utf-8").lower()
    markup = _tags(page)
    for bad in ("<script", "<img", "<iframe", "<svg", "<a xlink", "onerror", "onclick", "javascript:", "data:"):
        assert bad not in markup, bad
    assert "alert(" in page  # the hostile text is still there, as text
    path = hostile.save(tmp_path / "h.docx")
    document = docx.Document(str(path))
    assert any("alert" in p.text for p in document.paragraphs)  # shown as text
    rels = zipfile.ZipFile(path).read("word/_rels/document.xml.rels").decode().lower()
    assert "javascript" not in rels and "hyperlink" not in rels  # nothing clickable or external


def _tags(page: str) -> str:
    """Only the markup of a page (tag names and attributes), not its text (a title attribute's value,
    the citation's evidence, is text: quotes inside it are escaped)."""
    import re

    return " ".join(re.sub(r'title="[^"]*"', 'title=""', t) for t in re.findall(r"<[a-z!/][^>]*>", page))


async def test_an_llm_run_records_endpoint_and_model_and_never_the_key(manager: RunManager, tmp_path: Path) -> None:
    httpx = pytest.importorskip("httpx")
    seen: list[str | None] = []

    def chat(request: Any) -> Any:
        seen.append(request.headers.get("authorization"))
        events = [{"choices": [{"delta": {"content": f"Written by the model, key {SECRET} [citation:1]."}}]}]
        payload = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return httpx.Response(200, content=payload.encode(), headers={"content-type": "text/event-stream"})

    llm = {"base_url": "http://llm.invalid/v1", "model": "fake-model", "api_key": SECRET}
    agent = LocalResearchAgent(llm={**llm, "transport": httpx.MockTransport(chat)})
    path = tmp_path / "llm.jsonl"
    report = await deepsearch_nb.research(
        DEMO_QUESTION, agent=agent, answers=ANSWERS, manager=manager, display=False, transcript=path
    )
    assert report.status == "COMPLETED" and seen and seen[0] == f"Bearer {SECRET}"  # the key was used
    header = read_transcript(path).header
    assert header["llm"] == {"base_url": "http://llm.invalid/v1", "model": "fake-model"}
    assert report.doc["provenance"]["model"] == "fake-model"
    assert report.doc["provenance"]["llm_endpoint"] == "http://llm.invalid/v1"
    page = report.save(tmp_path / "r.html").read_text(encoding="utf-8")
    md = report.save(tmp_path / "r.md").read_text(encoding="utf-8")
    word = zipfile.ZipFile(report.save(tmp_path / "r.docx")).read("word/document.xml").decode()
    assert "Model: fake-model" in md and "fake-model" in page
    for name, text in {"transcript": path.read_text(encoding="utf-8"), "md": md, "html": page, "docx": word}.items():
        assert SECRET not in text, name
    assert "Written by the model" in md

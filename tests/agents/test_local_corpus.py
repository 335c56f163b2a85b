"""Reading a custom corpus (Markdown, text, HTML, PDF) and researching it end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepsearch_nb import LocalResearchAgent
from deepsearch_nb._agents._local._corpus import load_corpus
from deepsearch_nb._agents._local._text import normalize_space
from deepsearch_nb._protocol import parse_reference_articles

from ._support import run_round
from .test_local_report import cited_segments

NO_STOPS = {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}

MARKDOWN = """\
# Heat pumps in cold climates
source: https://example.org/heat-pumps

Modern heat pumps keep working at outdoor temperatures well below freezing.
Their efficiency falls as the air gets colder, but it stays above that of electric resistance heating.

## Installation

- Installers size a heat pump to the coldest expected day of the year.
- Ductless heat pumps suit older houses that have no air ducts.

Read the [field study](https://example.org/study) for **measured** results.

```
code blocks are not prose
```
"""

TEXT = """\
District heating networks

source: https://example.org/district-heating

District heating networks pipe hot water from a central plant to many buildings.
Large heat pumps increasingly supply district heating networks in Scandinavia.
"""

HTML = """\
<!DOCTYPE html><html><head><title>Thermal energy storage for heating</title>
<link rel="canonical" href="https://example.org/thermal-storage">
<script>var hidden = "Scripts are never part of a document.";</script>
<style>p { color: red; }</style></head>
<body><h1>A heading that is not a sentence</h1>
<p>Thermal energy storage keeps heat in water tanks, rocks or molten salt for later use.</p>
<p>Large water tanks let district heating networks store cheap heat for several days &amp; nights.</p>
</body></html>
"""


def _minimal_pdf(lines: list[str], title: str) -> bytes:
    """A one-page PDF with text in the standard Helvetica font (what pypdf can extract)."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({title}) >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out + trailer.encode()


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "notes").mkdir(parents=True)
    (root / "heat pumps.md").write_text(MARKDOWN, encoding="utf-8")
    (root / "notes" / "district.txt").write_text(TEXT, encoding="utf-8")
    (root / "storage.html").write_text(HTML, encoding="utf-8")
    (root / "tidal.pdf").write_bytes(
        _minimal_pdf(
            [
                "Tidal turbines convert the energy of moving water into electricity.",
                "Tidal power is predictable because the tides follow the moon.",
            ],
            "Tidal power notes",
        )
    )
    (root / "_draft.md").write_text("# Draft\n\nDrafts are skipped by the loader.\n", encoding="utf-8")
    (root / ".hidden.md").write_text("# Hidden\n\nHidden files are skipped too.\n", encoding="utf-8")
    (root / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (root / "empty.md").write_text("# Only a title\n", encoding="utf-8")
    return root


def test_documents_are_read_as_plain_text(corpus_dir: Path) -> None:
    corpus = load_corpus(corpus_dir)
    by_path = {d.path: d for d in corpus.documents}
    assert list(by_path) == ["heat pumps.md", "notes/district.txt", "storage.html", "tidal.pdf"]
    assert [d.doc_id for d in corpus.documents] == [0, 1, 2, 3]
    md = by_path["heat pumps.md"]
    assert md.title == "Heat pumps in cold climates" and md.url == "https://example.org/heat-pumps"
    assert "Installers size a heat pump to the coldest expected day of the year." in md.sentences
    assert "Read the field study for measured results." in md.sentences
    assert not any("code blocks" in s or s == "Installation" for s in md.sentences)
    txt = by_path["notes/district.txt"]
    assert txt.title == "District heating networks" and txt.url == "https://example.org/district-heating"
    assert txt.sentences[0].startswith("District heating networks pipe hot water")
    html = by_path["storage.html"]
    assert html.title == "Thermal energy storage for heating" and html.url == "https://example.org/thermal-storage"
    assert (
        "Large water tanks let district heating networks store cheap heat for several days & nights." in html.sentences
    )
    assert not any("Scripts" in s or "color" in s or "heading" in s for s in html.sentences)
    pdf = by_path["tidal.pdf"]
    assert pdf.title == "Tidal power notes" and pdf.url == "tidal.pdf"
    assert "Tidal power is predictable because the tides follow the moon." in pdf.sentences


def test_a_path_without_a_source_link_is_url_quoted(tmp_path: Path) -> None:
    (tmp_path / "a file (draft).md").write_text("# T\n\nA sentence long enough to be quoted here.\n")
    (doc,) = load_corpus(tmp_path).documents
    assert doc.url == "a%20file%20%28draft%29.md"


def test_a_single_file_is_a_corpus(corpus_dir: Path) -> None:
    corpus = load_corpus(corpus_dir / "storage.html")
    assert [d.path for d in corpus.documents] == ["storage.html"]


async def test_research_over_a_custom_corpus(corpus_dir: Path) -> None:
    agent = LocalResearchAgent(corpus_dir)
    rnd = await run_round(
        agent, "How do heat pumps and thermal storage help district heating?", "custom", config=NO_STOPS
    )
    assert rnd.last["content"] == "ALL END"
    report = rnd.report
    sources = {s.index: s for s in parse_reference_articles(report)}
    segments = cited_segments(report)
    assert segments
    for number, sentence in segments:
        doc = agent.corpus.by_url(sources[number].url)
        assert doc is not None and sentence in normalize_space(doc.text)
    collected = {json.loads(c["content"])["url"] for c in rnd.of("collector_info_retrieval")}
    assert "https://example.org/thermal-storage" in collected
    assert "https://example.org/heat-pumps" in collected


async def test_small_corpus_caps_the_sections(corpus_dir: Path) -> None:
    agent = LocalResearchAgent(corpus_dir)
    rnd = await run_round(agent, "heat", "small", config=NO_STOPS | {"outliner_max_section_num": 15})
    assert 1 <= len(rnd.outline()["sections"]) <= 4  # never more sections than documents


async def test_question_matching_nothing_still_gets_a_report(corpus_dir: Path) -> None:
    agent = LocalResearchAgent(corpus_dir)
    first = await run_round(agent, "zebra migration", "nothing")
    assert first.last["agent"] == "feedback_handler"  # nothing matches: ask what the corpus can offer
    assert "Which aspects" in first.text("generate_questions")
    second = await run_round(agent, "", "nothing", "accepted")
    assert "the outline groups the corpus in order" in second.outline()["thought"]
    done = await run_round(agent, "", "nothing", "accepted")
    assert done.last["content"] == "ALL END"

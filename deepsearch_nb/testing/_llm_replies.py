"""What the stub LLM answers to each kind of request the openJiuwen SDK 0.1.11 makes.

A kind is recognised by the tool the request offers (intent, outline, plan) or by words of its system
prompt; the answer is built from the request itself, so it passes what the SDK's parsers check
(protocol reference §6.0): tool-call arguments with every required field of the offered JSON schema,
JSON documents for the collector and evidence steps, a numbered plain outline and Markdown citing
``[citation:N]`` for the writing steps. Nothing is random: the same request gets the same answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "Reply", "classify", "reply_for"]


@dataclass(frozen=True)
class Reply:
    """Either plain text or one tool call ``(name, arguments)``."""

    text: str = ""
    tool: tuple[str, dict[str, Any]] | None = None


_TOOL_KINDS = {
    "emit_report_intent": "intent",
    "generate_outline": "outline",
    "dep_driving_generate_outline": "outline",
    "generate_plan": "plan",
}
# Words of each step's system prompt (openjiuwen_deepsearch/algorithm/prompts/*/system.md), first match wins.
_PROMPT_KINDS = (
    ("You write one section of a research report", "local_section"),  # the local agent's LLM writer
    ("generate three follow-up questions", "questions"),
    ("focused web search queries", "collector_query"),
    ("research supervisor", "supervisor"),
    ("Information Organizer", "organizer"),
    ("key information dimensions", "rationales"),
    ("extract relevant passages", "passages"),
    ("writing master", "sub_outline"),
    ("sub report writer", "sub_report"),
    ("compact structured sidecar", "sidecar"),
    ("Executive Summary", "sub_summary"),
    ("Writing Guide: Abstract", "abstract"),
    ("Writing Guide Conclusion", "conclusion"),
    ("narrative coherence", "transition"),
    ("The last chapter", "implications"),
)
KINDS = ("intent", "outline", "plan", *(kind for _, kind in _PROMPT_KINDS), "text")
"""Every kind :func:`classify` returns."""

_ADD_SECTION = re.compile(r"add a (?:section|chapter) (?:on|about) ([^.\n\"'{}]{3,60})", re.IGNORECASE)
_QUOTED = r"'((?:[^'\\]|\\.)*)'"
_USER_SECTION = re.compile(rf"Section\(id='[^']*', title={_QUOTED}, description={_QUOTED}")
_SENTENCE = re.compile(r"[^.!?\n]{20,400}[.!?]")


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages") or []
    return [m for m in messages if isinstance(m, dict)]


def _role_text(body: dict[str, Any], role: str) -> str:
    return "\n".join(str(m.get("content") or "") for m in _messages(body) if m.get("role") == role)


def _tools(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for tool in body.get("tools") or []:
        function = tool.get("function") or {}
        found[str(function.get("name", ""))] = function
    return found


def classify(body: dict[str, Any]) -> str:
    """The kind of one request: one of :data:`KINDS`."""
    for name in _tools(body):
        if name in _TOOL_KINDS:
            return _TOOL_KINDS[name]
    system = _role_text(body, "system")
    for words, kind in _PROMPT_KINDS:
        if words in system:
            return kind
    return "text"


def reply_for(kind: str, body: dict[str, Any], *, language: str, clarify: bool, invent: str = "") -> Reply:
    """The stub's answer to one request of ``kind``; ``invent`` is a claim the local agent's section
    writer adds, citing the first evidence it was given (which does not say it)."""
    user = _role_text(body, "user")
    tools = _tools(body)
    if kind == "local_section":
        return Reply(text=_local_section(user, invent))
    if kind == "intent":
        name = next(n for n in tools if _TOOL_KINDS.get(n) == "intent")
        query = _after(user, "Original user query:") or "the research question"
        asked = any(m.get("role") == "assistant" for m in _messages(body))
        args = _required(tools[name].get("parameters") or {})
        args.update(
            research_query=query[:380],
            language=language,
            needs_clarification=clarify and not asked,
            report_type="professional",
        )
        return Reply(tool=(name, args))
    if kind == "outline":
        name = next(n for n in tools if _TOOL_KINDS.get(n) == "outline")
        return Reply(tool=(name, _outline(tools[name], user, language)))
    if kind == "plan":
        name = next(n for n in tools if _TOOL_KINDS.get(n) == "plan")
        return Reply(tool=(name, _plan(tools[name], body, language)))
    task = _after(user, "Task title:") or _after(user, "Chapter title:") or "the current task"
    passages = [s.strip() for s in _SENTENCE.findall(_documents_text(user))]
    if kind == "questions":
        return Reply(
            text="1. Which region or market should the report focus on?\n"
            "2. Which aspects matter most to you (costs, safety, policy, technology)?\n"
            "3. Who will read the report, and how technical should it be?"
        )
    if kind == "collector_query":
        return _json(
            {"missing_evidence": [f"Evidence on {task}"], "queries": [{"query": task, "search_engine_names": []}]}
        )
    if kind == "supervisor":
        return _json(
            {
                "is_sufficient": True,
                "should_continue": False,
                "knowledge_gap": "",
                "known_facts": passages[:1],
                "missing_evidence": [],
                "next_queries": [],
            }
        )
    if kind == "organizer":
        summary = " ".join(passages[:3]) or f"The collected documents describe {task}."
        return _json({"info_summary": summary, "evaluation": "The evidence answers the step for the cited sources."})
    if kind == "rationales":
        return _json(
            {
                "rationales": [
                    {"id": "r1", "description": f"Key facts on {task}", "type": "qualitative", "priority": "primary"}
                ]
            }
        )
    if kind == "passages":
        return _json({"documents": _passages(user)})
    if kind == "sub_outline":
        number = _after(user, "Section id is", until=",") or "1"
        title = _after(user, "Section title is", until=",") or task
        return Reply(text=f"{number} {title}")
    if kind == "sub_report":
        return Reply(text=_sub_report(user))
    if kind == "sidecar":
        finding = passages[0] if passages else f"The chapter covers {task}."
        return _json(
            {"chapter_summary": finding, "key_findings": [finding], "risk_points": ["Few sources were found."]}
        )
    if kind in ("sub_summary", "abstract", "conclusion", "transition", "implications"):
        return Reply(text=(passages[0] if passages else "The chapters together answer the research question."))
    return Reply(text="OK")


_EVIDENCE_LINE = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)


def _local_section(user: str, invent: str) -> str:
    """A faithful section: each evidence sentence restated with its citation; then the invented claim."""
    evidence = _EVIDENCE_LINE.findall(user.split("Evidence:", 1)[-1])
    sentences = [f"{text.rstrip(' .')} [citation:{n}]." for n, text in evidence]
    if invent and evidence:
        sentences.append(f"{invent.rstrip(' .')} [citation:{evidence[0][0]}].")
    return " ".join(sentences) or "The evidence says nothing on this."


def _json(value: dict[str, Any]) -> Reply:
    return Reply(text=json.dumps(value, ensure_ascii=False))


def _after(text: str, label: str, *, until: str = "\n") -> str:
    """The first non-empty text after ``label`` (on its line or the next), up to ``until``."""
    start = text.find(label)
    if start < 0:
        return ""
    rest = text[start + len(label) :].lstrip(" \t:")
    rest = rest.lstrip("\n") if rest.startswith("\n") else rest
    end = rest.find(until)
    return (rest if end < 0 else rest[:end]).strip()


def _documents_text(user: str) -> str:
    """The evidence part of a prompt (documents, passages, citations), where quotable sentences are."""
    contents = re.findall(r"(?:Content|content): (.+)", user)
    contents += re.findall(r"'key_passages': \['([^']+)'", user)
    return "\n".join(contents)


def _required(schema: dict[str, Any]) -> dict[str, Any]:
    """A value for every required property of an object schema (optional ones are left out)."""
    properties = schema.get("properties") or {}
    return {name: _value(properties.get(name) or {}, name) for name in schema.get("required") or []}


def _value(schema: dict[str, Any], name: str) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _required(schema)
    if kind == "array":
        return [
            _value(schema.get("items") or {"type": "string"}, name) for _ in range(int(schema.get("minItems") or 1))
        ]
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 1
    return name.replace("_", " ")


_SECTIONS = (
    ("Costs and economics", "What storage costs to build and run, and how costs have changed."),
    ("Safety and operations", "How installations are kept safe and how they are operated day to day."),
    ("Policy and markets", "Which rules and market designs let storage earn revenue."),
)


def _outline(tool: dict[str, Any], user: str, language: str) -> dict[str, Any]:
    schema = tool.get("parameters") or {}
    item = ((schema.get("properties") or {}).get("sections") or {}).get("items") or {}
    edited = _user_outline(user)
    chosen = [(t, d or f"What the report should say about {t.lower()}.") for t, d in edited] or list(_SECTIONS[:2])
    added = _ADD_SECTION.search(user)  # a revise_comment such as "add a section on supply chain risks"
    if added and not edited:
        topic = added.group(1).strip()
        chosen.append((topic[:1].upper() + topic[1:], f"What the report should say about {topic}."))
    sections = []
    for number, (title, description) in enumerate(chosen, start=1):
        section = _required(item)
        section.update(
            id=str(number),
            title=title,
            description=description,
            format_requirements=["Prose with inline citations."],
            section_focus=f"{title} for the reader's decision",
            focus_dimensions=[title.split()[0].lower()],
            is_core_section=number == 1,
            parent_ids=[],
            relationships=[],
        )
        section.pop("material_bindings", None)
        sections.append(section)
    return {
        "language": language,
        "title": "Grid-scale battery storage",
        "thought": "Costs first.",
        "sections": sections,
    }


def _user_outline(user: str) -> list[tuple[str, str]]:
    """``(title, description)`` of the sections of an outline the person wrote (``revise_outline``).

    The SDK puts it in the prompt as the repr of its ``Outline`` model: ``User-provided outline: ...
    sections=[Section(id='1', title='...', description='...', ...)]``.
    """
    line = _after(user, "User-provided outline:")
    return [
        (_unquote(title), _unquote(description)) for title, description in _USER_SECTION.findall(line) if title.strip()
    ]


def _unquote(text: str) -> str:
    return text.replace("\\'", "'").replace('\\"', '"')


def _plan(tool: dict[str, Any], body: dict[str, Any], language: str) -> dict[str, Any]:
    schema = tool.get("parameters") or {}
    followup = any(m.get("role") in ("assistant", "tool") for m in _messages(body))
    user = _role_text(body, "user")
    task = _after(user, "Current section task:") or "the section"
    args = _required(schema)
    args.update(language=language, title=task[:80], thought="Collect the documents first.")
    if followup:
        args.update(is_research_completed=True, steps=[])
        return args
    item = ((schema.get("properties") or {}).get("steps") or {}).get("items") or {}
    step = _required(item)
    what = _after(user, "Current section description:") or task
    step.update(type="info_collecting", title=task[:80], description=f"Collect documents on {task}: {what}")
    args.update(is_research_completed=False, steps=[step])
    return args


def _passages(user: str) -> list[dict[str, Any]]:
    rationales = sorted(set(re.findall(r"\b(r\d+)\b", user))) or ["r1"]
    documents = []
    for index, content in re.findall(r"Document (\d+):.*?Content: (.+?)(?=\nDocument \d+:|\Z)", user, re.S):
        sentences = [s.strip() for s in _SENTENCE.findall(content)][:2] or [content.strip()[:300]]
        passages = [
            {
                "text": text,
                "reliability": 0.7,
                "data_density": 0.5,  # charts need >= 0.8: stay below, no chart calls
                "scores": {r: {"coverage": 0.8} for r in rationales},
            }
            for text in sentences
            if text
        ]
        documents.append({"doc_index": int(index), "passages": passages})
    return documents


def _sub_report(user: str) -> str:
    outline = _between(user, "<current_chapter_outline>", "</current_chapter_outline>")
    lines = [line.strip() for line in outline.splitlines() if line.strip()] or ["1 Findings"]
    citations = re.findall(r"\[citation:(\d+) begin\](.*?)\[citation:\d+ end\]", user, re.S)
    parts = [f"# {lines[0]}"]
    body = []
    for number, raw in citations[:3]:
        content = raw.rsplit("content:", 1)[-1].strip()
        sentence = next(iter(_SENTENCE.findall(content)), content[:200]).strip()
        body.append(f"{sentence} [citation:{number}]")
    text = " ".join(body) or "The collected sources say little on this point [citation:1]."
    parts.append(text)
    for line in lines[1:]:
        parts += [f"## {line}", text]
    return "\n\n".join(parts) + "\n"


def _between(text: str, start: str, end: str) -> str:
    i = text.find(start)
    j = text.find(end, i + len(start))
    return text[i + len(start) : j] if i >= 0 and j > i else ""

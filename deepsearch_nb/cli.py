"""The ``deepsearch-nb`` command: research a question from a terminal with the same runtime as notebooks.

``deepsearch-nb run "QUESTION"`` streams the stages with a progress display, asks the agent's questions
on stdin (or takes scripted ``--answer``s), and writes the report as Markdown. ``deepsearch-nb demo`` is
the offline main job: the shipped corpus, scripted answers, a report in ``out/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ._errors import DeepSearchError, HitlTimeout
from ._protocol import Chunk, HitlAnswer, HitlRequest, HitlStage, StreamEvent, stage_label
from ._runtime import ChunkReceived, MalformedChunkReceived, Run, RunEvent, RunManager, RunState
from ._secrets import scrub_text, secret_values

__all__ = ["main"]


class _Progress:
    """Prints what a person wants to follow: stage changes, sources, finished sections, errors."""

    def __init__(self, out: TextIO, *, stream_text: bool) -> None:
        self.out = out
        self.stream_text = stream_text
        self._stage = ""
        self._sources = 0
        self._sections = 0
        self._mid_line = False

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, MalformedChunkReceived):
            self._line(f"! skipped a malformed chunk: {event.malformed.reason}")
        elif isinstance(event, ChunkReceived):
            self._chunk(event.run, event.chunk)

    def _chunk(self, run: Run, chunk: Chunk) -> None:
        label = stage_label(chunk.agent)
        if label != self._stage and not chunk.is_interrupt and chunk.agent not in ("end", "system"):
            self._stage = label
            where = f" (section {chunk.section_idx})" if chunk.section_idx not in ("", "0") else ""
            self._line(f"» {label}{where}")
        progress = run.progress
        if len(progress.sources) > self._sources:
            for source in progress.sources[self._sources :]:
                self._line(f"  + [{source.index}] {source.title} ({source.url})")
            self._sources = len(progress.sources)
        if len(progress.sections_done) > self._sections:
            self._sections = len(progress.sections_done)
            total = progress.sections_total or "?"
            self._line(f"  ✓ section {self._sections} of {total} written")
        if self.stream_text and chunk.agent == "sub_reporter" and chunk.event == StreamEvent.MESSAGE:
            self.out.write(chunk.content)
            self._mid_line = True
            self.out.flush()

    def _line(self, text: str) -> None:
        if self._mid_line:
            self.out.write("\n")
            self._mid_line = False
        print(text, file=self.out, flush=True)


def _describe(request: HitlRequest) -> str:
    if request.stage is HitlStage.CLARIFICATION:
        return f"The agent asks:\n{request.questions.strip()}\n"
    if request.outline is not None:
        lines = [f"Proposed outline: {request.outline.title}"]
        lines += [f"  {n}. {s.title}" for n, s in enumerate(request.outline.sections, start=1)]
        return "\n".join(lines) + "\n"
    return request.prompt


def _prompt(request: HitlRequest) -> str:
    if request.stage is HitlStage.OUTLINE_REVIEW:
        return "Accept with 'accept' (or Enter), or type what to change: "
    return "Your answer (Enter to let the agent decide): "


async def _answer_interactively(request: HitlRequest, out: TextIO) -> HitlAnswer:
    print(_describe(request), file=out, flush=True)
    text = await asyncio.to_thread(input, _prompt(request))
    if request.stage is HitlStage.OUTLINE_REVIEW and not text.strip():
        return HitlAnswer.accept()
    return HitlAnswer.coerce(text, request.stage)


async def research(
    agent: Any,
    question: str,
    *,
    answers: Sequence[str],
    agent_config: dict[str, Any],
    interactive: bool,
    out: TextIO,
    stream_text: bool = False,
) -> Run:
    """Run one research session to its end, answering the agent's questions as it asks them."""
    manager = RunManager()
    run = manager.start(agent, question, agent_config=agent_config)
    run.subscribe(_Progress(out, stream_text=stream_text))
    scripted = list(answers)
    try:
        while await run.until_settled() is RunState.WAITING_USER_INPUT:
            request = run.pending
            assert request is not None
            if scripted:
                answer = HitlAnswer.coerce(scripted.pop(0), request.stage)
                print(_describe(request) + f"→ scripted answer: {answer.feedback.value} {answer.message}", file=out)
            elif interactive:
                answer = await _answer_interactively(request, out)
            else:
                run.cancel()
                await run
                raise HitlTimeout(
                    f"The agent asks for {request.stage.value} and no answer is left: pass more --answer options "
                    "(e.g. --answer accept), run in a terminal to answer by hand, or use --no-hitl."
                )
            try:
                run.submit(answer)
            except DeepSearchError as exc:  # a bad answer keeps the run paused: say so and ask again
                print(f"! {exc}", file=out)
                if not interactive:
                    raise
    except (KeyboardInterrupt, asyncio.CancelledError):
        run.cancel()
        await run
        raise
    finally:
        await manager.drain()
    return run


def _write_outputs(run: Run, args: argparse.Namespace, out: TextIO) -> None:
    report_path = Path(args.out)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    secrets = secret_values(run.agent_config)  # a key can reach the text through the question or an error
    report_path.write_text(scrub_text(run.report_markdown, secrets) + "\n", encoding="utf-8")
    print(f"report ({run.state.value}, {run.elapsed_s:.2f} s): {report_path}", file=out)
    if args.transcript:
        lines = []
        for number, rnd in enumerate(run.rounds, start=1):
            end = run.rounds[number].first_chunk if number < len(run.rounds) else len(run.chunks)
            lines += [
                scrub_text(json.dumps({"round": f"r{number}", **json.loads(c.to_wire())}), secrets)
                for c in run.chunks[rnd.first_chunk : end]
            ]
        Path(args.transcript).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"transcript: {args.transcript}", file=out)


def _agent_config(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(args.config) if args.config else {}
    if not isinstance(config, dict):
        raise SystemExit("--config must be a JSON object, e.g. '{\"outliner_max_section_num\": 4}'")
    if args.no_hitl:
        config["workflow_human_in_the_loop"] = False
        config["outline_interaction_enabled"] = False
    if args.sections is not None:
        config["outliner_max_section_num"] = args.sections
    return config


def _run(args: argparse.Namespace) -> int:
    from ._agents._local import DEMO_ANSWERS, DEMO_QUESTION, LocalResearchAgent

    out = sys.stdout
    if args.command == "demo":
        args.question = DEMO_QUESTION
        args.answer = list(DEMO_ANSWERS)
        args.out = str(Path(args.out_dir) / "report.md")
        args.transcript = str(Path(args.out_dir) / "transcript.jsonl")
    agent = LocalResearchAgent(args.corpus, pacing=args.pacing)
    interactive = args.command == "run" and sys.stdin.isatty() and not args.no_input
    print(f"researching: {args.question}", file=out)
    run = asyncio.run(
        research(
            agent,
            args.question,
            answers=args.answer or [],
            agent_config=_agent_config(args),
            interactive=interactive,
            out=out,
            stream_text=args.stream,
        )
    )
    _write_outputs(run, args, out)
    if run.state is not RunState.COMPLETED:
        print(f"the run ended {run.state.value}: {run.error or run.cancel_reason}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepsearch-nb", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="research a question")
    run.add_argument("question")
    run.add_argument("--out", default="report.md", help="where to write the Markdown report (default: report.md)")
    run.add_argument("--answer", action="append", help="a scripted answer, one per question, in order (repeatable)")
    run.add_argument("--no-input", action="store_true", help="never read stdin; fail when answers run out")
    demo = commands.add_parser("demo", help="the offline demo: shipped corpus, scripted answers")
    demo.add_argument("--out-dir", default="out", help="where to write the report (default: out/)")
    for sub in (run, demo):
        sub.add_argument("--corpus", help="a folder of .md/.txt/.html/.pdf documents (default: the demo corpus)")
        sub.add_argument("--pacing", type=float, default=0.0, help="seconds per streamed token (default 0)")
        sub.add_argument("--config", help="agent_config as JSON")
        sub.add_argument("--sections", type=int, help="the most sections the outline may have (1-15)")
        sub.add_argument("--no-hitl", action="store_true", help="no clarification and no outline review")
        sub.add_argument("--stream", action="store_true", help="print the report text as it is written")
        sub.add_argument("--transcript", help="also write the chunk stream as JSON lines (replayable)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except DeepSearchError as exc:
        print(f"deepsearch-nb: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deepsearch-nb: cancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

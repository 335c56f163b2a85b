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

from ._errors import ConfigurationError, DeepSearchError
from ._protocol import (
    NO_HITL_CONFIG,
    Chunk,
    HitlAnswer,
    HitlRequest,
    HitlStage,
    ProgressUpdate,
    ReportTemplate,
    StreamEvent,
    resolve_template,
    stage_label,
)
from ._secrets import scrub_text
from .runtime import (
    AnswerBy,
    AnswerSubmitted,
    ChunkReceived,
    MalformedChunkReceived,
    Notice,
    Run,
    RunEvent,
    RunManager,
    RunState,
    Session,
    TranscriptWriter,
)
from .server._serve import add_arguments as add_serve_arguments

__all__ = ["main"]


class _Progress:
    """Prints what a person wants to follow: stage changes, sources, finished sections, answers, warnings."""

    def __init__(self, out: TextIO, *, stream_text: bool) -> None:
        self.out = out
        self.stream_text = stream_text
        self._stage = ""
        self._sections = 0
        self._total = 0
        self._mid_line = False

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, MalformedChunkReceived):
            self._line(f"! skipped a malformed chunk: {event.malformed.reason}")
        elif isinstance(event, ChunkReceived):
            self._chunk(event.chunk, event.update)
        elif isinstance(event, AnswerSubmitted) and event.by is AnswerBy.SCRIPTED:
            self._line(
                _describe(event.request) + f"→ scripted answer: {event.answer.feedback.value} {event.answer.message}"
            )
        elif isinstance(event, Notice):
            self._line(f"! {event.message}")

    def _chunk(self, chunk: Chunk, update: ProgressUpdate) -> None:
        label = stage_label(chunk.agent)
        if label != self._stage and not chunk.is_interrupt and chunk.agent not in ("end", "system"):
            self._stage = label
            where = f" (section {chunk.section_idx})" if chunk.section_idx not in ("", "0") else ""
            self._line(f"» {label}{where}")
        if update.outline is not None:
            self._total = len(update.outline.sections)
        for source in update.sources:
            self._line(f"  + [{source.index}] {source.title} ({source.url})")
        if update.section_done is not None:
            self._sections += 1
            self._line(f"  ✓ section {self._sections} of {self._total or '?'} written")
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


def _terminal_asker(out: TextIO) -> Any:
    """The session driver's asker for a person at a terminal: the question, then a prompt on stdin."""

    async def ask(request: HitlRequest, problem: str | None) -> HitlAnswer | None:
        if problem is not None:
            print(f"! {problem}", file=out, flush=True)
        else:
            print(_describe(request), file=out, flush=True)
        try:
            text = await asyncio.to_thread(input, _prompt(request))
        except EOFError:
            return None  # stdin closed: nobody can answer
        if request.stage is HitlStage.OUTLINE_REVIEW and not text.strip():
            return HitlAnswer.accept()
        return HitlAnswer.coerce(text, request.stage)

    return ask


def _no_answer_left(request: HitlRequest, limit: float) -> str:
    return (
        f"The agent asks for {request.stage.value} and no answer is left: pass more --answer options "
        "(e.g. --answer accept), run in a terminal to answer by hand, or use --no-hitl."
    )


async def research(
    agent: Any,
    question: str,
    *,
    answers: Sequence[str],
    agent_config: dict[str, Any],
    interactive: bool,
    out: TextIO,
    stream_text: bool = False,
    transcript: str | None = None,
    template: ReportTemplate | None = None,
) -> tuple[Run, DeepSearchError | None]:
    """Run one research session to its end with the runtime's session driver (scripted, then stdin).

    Returns the run and the error that stopped it early (answers ran out, a bad answer), so that the
    caller still writes everything that was received.
    """
    manager = RunManager()
    run = manager.start(agent, question, agent_config=agent_config, report_template=template or "")
    if transcript:  # the notebook's writer: written as the run goes, so a crash keeps what came
        TranscriptWriter.attach(run, transcript)
    run.subscribe(_Progress(out, stream_text=stream_text))
    session = Session(
        run,
        answers=list(answers),
        ask=_terminal_asker(out) if interactive else None,
        timeout=None if interactive else 0.0,
        timeout_message=_no_answer_left,
    )
    error: DeepSearchError | None = None
    try:
        await session.drive()
    except DeepSearchError as exc:  # the session cancelled the run first; what came is kept
        error = exc
    except (KeyboardInterrupt, asyncio.CancelledError):
        run.cancel("interrupted at the terminal (Ctrl+C)")
        await run
        raise
    finally:
        try:
            await manager.drain(30)
        except TimeoutError:
            print("! some agent cleanups were still running after 30 s", file=out)
    return run, error


def _write_outputs(run: Run, args: argparse.Namespace, out: TextIO) -> None:
    report_path = Path(args.out)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    secrets = list(run.secrets)  # a key can reach the text through the question or an error
    report_path.write_text(scrub_text(run.report_markdown, secrets) + "\n", encoding="utf-8")
    print(f"report ({run.state.value}, {run.elapsed_s:.2f} s): {report_path}", file=out)
    if getattr(args, "transcript", None):
        print(f"transcript: {args.transcript}", file=out)


def _agent_config(args: argparse.Namespace) -> dict[str, Any]:
    try:
        config: Any = json.loads(args.config) if args.config else {}
    except ValueError as exc:
        raise ConfigurationError(
            f"--config is not valid JSON ({exc}); quote it as one shell word, e.g. "
            """--config '{"outliner_max_section_num": 4}'."""
        ) from None
    if not isinstance(config, dict):
        raise ConfigurationError("--config must be a JSON object, e.g. '{\"outliner_max_section_num\": 4}'")
    if args.no_hitl:
        config.update(NO_HITL_CONFIG)
    if args.sections is not None:
        config["outliner_max_section_num"] = args.sections
    return config


def _check_writable(option: str, value: str | None) -> None:
    """Refuse an output path that cannot be written before the run starts (not after its report exists)."""
    if not value:
        return
    path = Path(value)
    if path.is_dir():
        raise ConfigurationError(f"{option} {value!r} is a folder; give a file name, e.g. {option} report.md.")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigurationError(
                    f"{option} {value!r} cannot be written: {str(parent)!r} is a file, not a folder."
                )
            break


def _agent(args: argparse.Namespace) -> Any:
    """The agent the options ask for (``--agent local|sdk``, ``--remote URL``), with errors that name the flag."""
    from ._agents._select import make_agent

    kind = "remote" if args.remote else args.agent
    return make_agent(
        kind,
        corpus=args.corpus,
        pacing=args.pacing,
        llm_base_url=args.llm_base_url,
        llm_model=args.llm_model,
        llm_api_key_env=args.llm_api_key_env,
        search=args.search,
        url=args.remote,
        token_env=args.token_env,
    )


def _run(args: argparse.Namespace) -> int:
    from ._agents._local import DEMO_ANSWERS, DEMO_QUESTION

    out = sys.stdout
    if args.command == "demo":
        args.question = DEMO_QUESTION
        args.answer = list(DEMO_ANSWERS)
        args.out = str(Path(args.out_dir) / "report.md")
        args.transcript = str(Path(args.out_dir) / "transcript.jsonl")
    _check_writable("--out", args.out)
    _check_writable("--transcript", args.transcript)
    template = resolve_template(args.template) if args.template else None  # refused before anything starts
    agent = _agent(args)
    interactive = args.command == "run" and sys.stdin.isatty() and not args.no_input
    print(f"researching: {args.question}", file=out)
    if template is not None:
        print(f"template: {template.name} (sha256 {template.sha256[:12]}, {len(template.sections)} sections)", file=out)
    run, error = asyncio.run(
        research(
            agent,
            args.question,
            answers=args.answer or [],
            agent_config=_agent_config(args),
            interactive=interactive,
            out=out,
            stream_text=args.stream,
            transcript=args.transcript,
            template=template,
        )
    )
    _write_outputs(run, args, out)
    if error is not None:  # written first: what was received is never lost
        print(f"deepsearch-nb: {error}", file=sys.stderr)
        return 2
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
        sub.add_argument(
            "--agent",
            choices=("local", "sdk"),
            default="local",
            help="local: the offline agent (default); sdk: the openJiuwen SDK (needs --llm-base-url, --llm-model)",
        )
        sub.add_argument("--llm-base-url", help="an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
        sub.add_argument("--llm-model", help="the model name the endpoint serves")
        sub.add_argument(
            "--llm-api-key-env", help="the environment variable holding the LLM key (default OPENAI_API_KEY)"
        )
        sub.add_argument("--search", help="sdk agent: 'corpus' (the --corpus documents, default) or a web engine")
        sub.add_argument("--remote", metavar="URL", help="research on a DeepSearch server at URL instead")
        sub.add_argument(
            "--token-env", help="with --remote: the variable holding its token (default DEEPSEARCH_NB_TOKEN)"
        )
        sub.add_argument("--corpus", help="a folder of .md/.txt/.html/.pdf documents (default: the demo corpus)")
        sub.add_argument("--pacing", type=float, default=0.0, help="seconds per streamed token (default 0)")
        sub.add_argument("--config", help="agent_config as JSON")
        sub.add_argument("--sections", type=int, help="the most sections the outline may have (1-15)")
        sub.add_argument("--no-hitl", action="store_true", help="no clarification and no outline review")
        sub.add_argument("--stream", action="store_true", help="print the report text as it is written")
        sub.add_argument("--transcript", help="also write the run's transcript as JSON lines (deepsearch-nb replay)")
        sub.add_argument(
            "--template", metavar="NAME|FILE", help="the report's sections: a template name or a Markdown file"
        )
    replay = commands.add_parser("replay", help="replay a transcript and say whether it gives the same report")
    replay.add_argument("transcript", help="a transcript written by --transcript or research()")
    replay.add_argument("--speed", type=float, default=0.0, help="0: instantly (default); 1: at recorded speed")
    replay.add_argument("--question", help="ask this instead of the recorded question (to test divergence)")
    replay.add_argument("--answer", action="append", help="answer with these instead of the recorded answers")
    replay.add_argument("--out", default="report.md", help="where to write the replayed report (default: report.md)")
    export = commands.add_parser("export", help="export a saved report (.json) as html, md or docx")
    export.add_argument("report", help="a report saved with Report.save('....json')")
    export.add_argument("--to", choices=("html", "md", "docx"), default="html", help="the format (default html)")
    export.add_argument("--out", help="the file to write (default: the report's name with the new suffix)")
    serve = commands.add_parser("serve", help="serve the run API to a team (the server extra; Redis for workers)")
    add_serve_arguments(serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command in ("replay", "export"):
            from ._cli_reports import export, replay

            return replay(args, research) if args.command == "replay" else export(args)
        if args.command == "serve":
            from .server._serve import serve

            return serve(args)
        return _run(args)
    except DeepSearchError as exc:
        print(f"deepsearch-nb: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deepsearch-nb: cancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

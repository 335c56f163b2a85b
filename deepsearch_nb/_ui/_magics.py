"""``%load_ext deepsearch_nb`` and the ``%%deepsearch`` cell magic: the cell body is the question.

Options: ``--agent local|sdk`` (with ``--llm-base-url``, ``--llm-model``, ``--llm-api-key-env``),
``--remote URL``, ``--corpus DIR``, ``--sources df,notes.md`` (notebook variables and paths),
``--answers JSON-or-@file``, ``--config JSON``, ``--no-hitl``, ``--pacing S``, ``--template NAME|FILE``
(the report's sections, see ``research(template=...)``), ``--wait``. Without ``--wait`` the run goes on in
the background and the cell returns at once (buttons work on ipykernel 6 and 7). With ``--wait`` the cell
awaits the run, like ``await research(...)``: a cell magic cannot await by itself, so the extension adds an
input transformer that turns exactly that cell into ``await get_ipython().run_cell_magic(...)``, which
IPython then runs as top-level await.
"""

from __future__ import annotations

import argparse
import ast
import json
import shlex
from collections.abc import Generator
from pathlib import Path
from typing import Any, NoReturn

from .._errors import DeepSearchError
from .._protocol import NO_HITL_CONFIG

__all__ = ["load_ipython_extension", "parse_options"]


class _UsageError(Exception):
    """Replaced by IPython's UsageError at the boundary (so this module imports without IPython)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"%%deepsearch: {message}. {_USAGE}")


_USAGE = (
    "Usage: %%deepsearch [--agent local|sdk] [--llm-base-url URL --llm-model NAME] [--remote URL [--token-env VAR]] "
    "[--corpus DIR | --sources df,notes.md] [--answers JSON|@FILE] [--config JSON] [--no-hitl] [--pacing S] "
    "[--step] [--template NAME|FILE] [--wait], "
    "with the question in the cell body."
)
_AGENT_OPTIONS = ("agent", "llm_base_url", "llm_model", "llm_api_key_env", "remote", "token_env")


def _parser() -> _Parser:
    parser = _Parser(prog="%%deepsearch", add_help=False, allow_abbrev=False)
    parser.add_argument("--agent", choices=("local", "sdk"), default="local")
    parser.add_argument("--llm-base-url", dest="llm_base_url", metavar="URL")
    parser.add_argument("--llm-model", dest="llm_model", metavar="NAME")
    parser.add_argument("--llm-api-key-env", dest="llm_api_key_env", metavar="VAR")
    parser.add_argument("--remote", metavar="URL")
    parser.add_argument("--token-env", dest="token_env", metavar="VAR")
    parser.add_argument("--corpus", metavar="DIR")
    parser.add_argument("--sources", metavar="NAMES")
    parser.add_argument("--answers", metavar="JSON|@FILE")
    parser.add_argument("--config", metavar="JSON")
    parser.add_argument("--no-hitl", action="store_true", dest="no_hitl")
    parser.add_argument("--pacing", metavar="S")
    parser.add_argument("--template", metavar="NAME|FILE")
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--step", action="store_true")
    return parser


def _json_option(name: str, text: str) -> Any:
    source = f"--{name}"
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _UsageError(f"%%deepsearch: cannot read {source} file {str(path)!r}: {exc.strerror}.") from None
        source = f"{source} file {str(path)!r}"
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _UsageError(
            f"%%deepsearch: {source} is not valid JSON ({exc}). Quote it as one shell word, "
            """e.g. --answers '["Focus on costs", "accept"]', or put it in a file and pass @file.json."""
        ) from None


def parse_options(line: str) -> dict[str, Any]:
    """Read the magic's option line into ``research()`` arguments plus ``corpus``, ``pacing`` and ``wait``."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise _UsageError(f"%%deepsearch: cannot read the options ({exc}); check the quotes. {_USAGE}") from None
    args = _parser().parse_args(words)
    options: dict[str, Any] = {"wait": bool(args.wait), "corpus": None, "pacing": 0.0}
    if args.sources is not None:
        options["sources"] = args.sources
    if args.step:
        options["step"] = True
    options.update({name: getattr(args, name) for name in _AGENT_OPTIONS})
    if args.corpus is not None:
        corpus = Path(args.corpus).expanduser()
        if not corpus.exists():
            raise _UsageError(f"%%deepsearch: --corpus {args.corpus!r} does not exist; give a folder of documents.")
        options["corpus"] = corpus
    if args.pacing is not None:
        try:
            pacing = float(args.pacing)
        except ValueError:
            pacing = -1.0
        if not pacing >= 0 or pacing == float("inf"):
            raise _UsageError(f"%%deepsearch: --pacing must be a number of seconds >= 0, not {args.pacing!r}.")
        options["pacing"] = pacing
    if args.answers is not None:
        answers = _json_option("answers", args.answers)
        if not isinstance(answers, list | dict):
            raise _UsageError(
                "%%deepsearch: --answers must be a JSON list (one answer per question) or an object per stage, "
                f"not {type(answers).__name__}."
            )
        options["answers"] = answers
    config: dict[str, Any] = {}
    if args.config is not None:
        loaded = _json_option("config", args.config)
        if not isinstance(loaded, dict):
            raise _UsageError(f"%%deepsearch: --config must be a JSON object, not {type(loaded).__name__}.")
        config.update(loaded)
    if args.no_hitl:
        config.update(NO_HITL_CONFIG)
    if config:
        options["agent_config"] = config
    if args.template is not None:
        options["template"] = args.template  # resolved by research(), which names where it looked
    return options


class _AwaitRun:
    """What ``%%deepsearch --wait`` returns: awaiting it waits for the run and gives the handle back."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def __await__(self) -> Generator[Any, None, Any]:
        yield from self.handle.__await__()
        return self.handle  # the cell's value; it shows nothing, the report already replaced the panel

    def __repr__(self) -> str:
        return f"<awaitable {self.handle!r}>"

    def _ipython_display_(self) -> None:
        return None


def deepsearch_cell_magic(line: str, cell: str) -> Any:
    """Start a research run on the question in the cell body (see the module docstring for the options)."""
    from . import _ipython
    from ._research import research
    from ._sources import sources_from_names

    question = cell.strip()
    try:
        options = parse_options(line)
        if not question:
            raise _UsageError(f"%%deepsearch: write the question in the cell body, below the magic line. {_USAGE}")
    except _UsageError as exc:
        raise _ipython.UsageError(str(exc)) from None
    wait = options.pop("wait")
    corpus = options.pop("corpus")
    sources = options.pop("sources", None)
    pacing = options.pop("pacing")
    chosen = {name: options.pop(name) for name in _AGENT_OPTIONS}
    try:
        from .._agents._local._config import parse_settings
        from .._agents._select import make_agent

        kind = "remote" if chosen["remote"] else chosen["agent"]
        if kind == "local":
            parse_settings(options.get("agent_config"), pacing)  # a bad --config fails here, not mid-run
        agent = make_agent(
            kind,
            corpus=corpus,
            pacing=pacing,
            llm_base_url=chosen["llm_base_url"],
            llm_model=chosen["llm_model"],
            llm_api_key_env=chosen["llm_api_key_env"],
            url=chosen["remote"],
            token_env=chosen["token_env"],
            sources=None if sources is None else sources_from_names(sources),
        )
        handle = research(question, agent=agent, **options)
    except DeepSearchError as exc:  # a bad corpus, config or answers: one line, not a traceback
        raise _ipython.UsageError(f"%%deepsearch: {exc}") from None
    return _AwaitRun(handle) if wait else handle


def _await_wait_cells(lines: list[str]) -> list[str]:
    """Input transformer: ``%%deepsearch --wait`` cells become ``await get_ipython().run_cell_magic(...)``."""
    source = "".join(lines)
    if "run_cell_magic('deepsearch'" not in source:
        return lines
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return lines
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return lines
    call = tree.body[0].value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "run_cell_magic"
        and len(call.args) == 3
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value == "deepsearch"
        and isinstance(call.args[1], ast.Constant)
        and isinstance(call.args[1].value, str)
    ):
        return lines
    try:
        wait = "--wait" in shlex.split(call.args[1].value)
    except ValueError:
        return lines
    return ["await " + source.lstrip()] if wait else lines


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%deepsearch`` (``%load_ext deepsearch_nb``); loading twice is harmless."""
    ipython.register_magic_function(deepsearch_cell_magic, magic_kind="cell", magic_name="deepsearch")
    transformers = ipython.input_transformers_post
    if _await_wait_cells not in transformers:
        transformers.append(_await_wait_cells)

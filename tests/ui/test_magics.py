"""``%%deepsearch``: option parsing, errors a user can act on, and the ``--wait`` transformer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.inputtransformer2 import TransformerManager

from deepsearch_nb import load_ipython_extension
from deepsearch_nb._ui._magics import _await_wait_cells, _AwaitRun, deepsearch_cell_magic
from deepsearch_nb._ui._magics import parse_options as parse


def test_options_become_research_arguments(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"clarification": "Europe", "outline_review": ["accept"]}))
    options = parse(
        f"--corpus {tmp_path} --answers @{answers} --config '{{\"outliner_max_section_num\": 3}}' --pacing 0.05 --wait"
    )
    assert options == {
        "wait": True,
        "corpus": tmp_path,
        "pacing": 0.05,
        "answers": {"clarification": "Europe", "outline_review": ["accept"]},
        "agent_config": {"outliner_max_section_num": 3},
        "agent": "local",
        "llm_base_url": None,
        "llm_model": None,
        "llm_api_key_env": None,
        "remote": None,
        "token_env": None,
    }


def test_agent_options_choose_the_agent() -> None:
    options = parse("--agent sdk --llm-base-url http://127.0.0.1:9/v1 --llm-model m --llm-api-key-env MY_KEY")
    assert (options["agent"], options["llm_base_url"], options["llm_model"], options["llm_api_key_env"]) == (
        "sdk",
        "http://127.0.0.1:9/v1",
        "m",
        "MY_KEY",
    )
    assert parse("--remote http://127.0.0.1:9")["remote"] == "http://127.0.0.1:9"


def test_no_hitl_switches_both_stops_off() -> None:
    options = parse("""--no-hitl --answers '["a"]'""")
    assert options["agent_config"] == {"workflow_human_in_the_loop": False, "outline_interaction_enabled": False}
    assert options["answers"] == ["a"] and options["wait"] is False


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--pacing fast", "--pacing must be a number"),
        ("--pacing -1", "--pacing must be a number"),
        ("--answers '[\"a\",'", "--answers is not valid JSON"),
        ("--answers '\"accept\"'", "must be a JSON list"),
        ("--answers @/nonexistent/answers.json", "cannot read --answers file"),
        ("--config '[1]'", "--config must be a JSON object"),
        ("--corpus /nonexistent/dir", "does not exist"),
        ("--colour blue", "unrecognized arguments: --colour blue"),
        ("--answers 'unclosed", "check the quotes"),
    ],
)
def test_bad_options_say_what_to_fix(line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        deepsearch_cell_magic(line, "What is grid storage?")


def test_empty_cell_asks_for_the_question() -> None:
    with pytest.raises(UsageError, match="write the question in the cell body"):
        deepsearch_cell_magic("", "  \n ")


def test_bad_agent_config_is_one_line(tmp_path: Path) -> None:
    async def main() -> None:
        with pytest.raises(UsageError, match="%%deepsearch: "):
            deepsearch_cell_magic("--config '{\"outliner_max_section_num\": 99}'", "q")

    import asyncio

    asyncio.run(main())


def test_wait_cells_are_awaited_and_others_untouched() -> None:
    manager = TransformerManager()

    def transformed(cell: str) -> str:
        code = manager.transform_cell(cell)
        return "".join(_await_wait_cells(code.splitlines(keepends=True)))

    assert transformed("%%deepsearch --wait --pacing 0.1\nWhat is {x}?\n").startswith(
        "await get_ipython().run_cell_magic('deepsearch', '--wait --pacing 0.1'"
    )
    assert transformed("%%deepsearch --pacing 0.1\nQ\n").startswith("get_ipython().run_cell_magic('deepsearch'")
    assert transformed("%%deepsearch --answers '[\"--wait\"]'\nQ\n").startswith("get_ipython()")
    assert transformed("x = 1\n") == "x = 1\n"
    assert transformed("%%timeit --wait\nx\n").startswith("get_ipython().run_cell_magic('timeit'")


async def test_await_run_gives_the_handle_back() -> None:
    class Handle:
        def __await__(self) -> Any:
            return self._done().__await__()

        async def _done(self) -> str:
            return "report"

    handle = Handle()
    awaitable = _AwaitRun(handle)
    assert await awaitable is handle
    awaitable._ipython_display_()  # shows nothing (and raises nothing)


def test_load_ipython_extension_registers_once() -> None:
    class Shell:
        def __init__(self) -> None:
            self.input_transformers_post: list[Any] = []
            self.magics: list[tuple[Any, str, str]] = []

        def register_magic_function(self, fn: Any, magic_kind: str, magic_name: str) -> None:
            self.magics.append((fn, magic_kind, magic_name))

    shell = Shell()
    load_ipython_extension(shell)
    load_ipython_extension(shell)
    assert shell.magics[0] == (deepsearch_cell_magic, "cell", "deepsearch")
    assert shell.input_transformers_post == [_await_wait_cells]

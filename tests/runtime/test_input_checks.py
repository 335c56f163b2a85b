"""Bad arguments to the run manager say what to fix (issue 9, item 11): a DeepSearchError, never a raw
TypeError or ValueError from deep inside, and nothing is started."""

from __future__ import annotations

from typing import Any

import pytest

from deepsearch_nb import ConfigurationError, InvalidInputError
from deepsearch_nb.runtime import RunManager
from deepsearch_nb.testing import ScriptedAgent, report_round


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"hitl_capacity": "10"}, "hitl_capacity must be a whole number"),
        ({"hitl_capacity": 0}, "hitl_capacity must be at least 1"),
        ({"hitl_capacity": True}, "hitl_capacity must be a whole number"),
        ({"cancel_grace_s": None}, "cancel_grace_s must be a number of seconds"),
        ({"cancel_grace_s": -1}, "cancel_grace_s must be 0 or more"),
        ({"end_grace_s": float("nan")}, "end_grace_s must be a number of seconds"),
        ({"history_limit": 1}, "history_limit must be at least 2"),
    ],
)
def test_manager_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RunManager(**options)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"agent_config": "outliner_max_section_num=4"}, ConfigurationError, "agent_config must be a dict"),
        ({"agent_config": 4}, ConfigurationError, "agent_config must be a dict"),
        ({"agent_config": [("a", 1)]}, ConfigurationError, "agent_config must be a dict"),
        ({"conversation_id": 123}, InvalidInputError, "conversation_id must be a string"),
        ({"conversation_id": "ab\n"}, InvalidInputError, "conversation_id 'ab\\\\n' is invalid"),
        ({"conversation_id": "a:b"}, InvalidInputError, "is invalid"),
        ({"space_id": 5}, InvalidInputError, "space_id must be a string"),
        ({"space_id": "a:b"}, InvalidInputError, "space_id 'a:b' is invalid"),
        ({"report_template": b"# T"}, ConfigurationError, "report_template must be text"),
    ],
)
async def test_start_arguments_are_checked(
    manager: RunManager, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        manager.start(ScriptedAgent(report_round(["x"])), "q", **kwargs)
    assert manager.stats().is_idle  # nothing was started


async def test_an_object_that_is_not_an_agent_is_refused(manager: RunManager) -> None:
    with pytest.raises(ConfigurationError, match="agent must be an Agent"):
        manager.start(object(), "q")  # type: ignore[arg-type]

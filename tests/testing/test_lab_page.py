"""The browser tests' page check: JupyterLab's own known uncaught errors pass, any other fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deepsearch_nb.testing import UPSTREAM_PAGE_ERRORS, LabPage, LabServer


def _page(errors: list[str]) -> LabPage:
    server = LabServer(name="s", home=Path(), root_dir=Path(), env={}, port=0, token="", log_path=Path("log"))
    page: Any = None
    return LabPage(page=page, server=server, test_name="t", page_errors=errors)


def test_a_known_upstream_error_passes_and_any_other_fails() -> None:
    _page([f"Error: {UPSTREAM_PAGE_ERRORS[0]}"]).assert_no_page_errors()
    with pytest.raises(AssertionError, match="TypeError: x is undefined"):
        _page([f"Error: {UPSTREAM_PAGE_ERRORS[0]}", "TypeError: x is undefined"]).assert_no_page_errors()

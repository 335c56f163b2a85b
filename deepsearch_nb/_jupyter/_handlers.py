"""Tornado handlers of the server extension (see the package docstring)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ._saved import list_saved_runs, read_saved_report

__all__ = ["setup_handlers"]


class _Base(APIHandler):
    def initialize(self, root: str) -> None:
        self.root = root


class RunsHandler(_Base):
    @web.authenticated
    async def get(self) -> None:
        runs = await asyncio.to_thread(list_saved_runs, self.root)  # a walk of the disk: off the server's loop
        self.finish(json.dumps({"runs": [r.to_json() for r in runs]}))


class ReportHandler(_Base):
    @web.authenticated
    async def get(self) -> None:
        path = self.get_query_argument("path", "")
        cell_text = self.get_query_argument("cell", "")
        cell = int(cell_text) if cell_text.isdigit() else None
        try:
            doc = await asyncio.to_thread(read_saved_report, self.root, path, cell)
        except PermissionError:
            raise web.HTTPError(403, "outside the server's root") from None
        except (OSError, ValueError):
            doc = None
        if doc is None:
            raise web.HTTPError(404, "no report there")
        self.finish(json.dumps(doc))


def setup_handlers(web_app: Any, root: str) -> None:
    base = web_app.settings.get("base_url", "/")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "deepsearch-nb", "runs"), RunsHandler, {"root": root}),
            (url_path_join(base, "deepsearch-nb", "report"), ReportHandler, {"root": root}),
        ],
    )

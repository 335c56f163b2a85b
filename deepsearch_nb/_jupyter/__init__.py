"""The Jupyter server extension: the saved runs under the server's root, for the runs sidebar.

Registered in the wheel (``etc/jupyter/jupyter_server_config.d/deepsearch_nb.json``, as the lab extension
is under ``share/jupyter/labextensions``), so JupyterLab and Notebook 7 load it with no setup. It only
reads: ``GET /deepsearch-nb/runs`` lists reports and transcripts found under the root (see ``_saved``),
``GET /deepsearch-nb/report?path=...&cell=N`` returns one report document; both need the server's login,
and neither reads outside the root. jupyter_server is imported only when a server loads the extension.
"""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points", "_load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "deepsearch_nb._jupyter"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from ._handlers import setup_handlers

    setup_handlers(server_app.web_app, str(server_app.root_dir))
    server_app.log.info("deepsearch_nb: saved runs under %s at /deepsearch-nb/runs", server_app.root_dir)

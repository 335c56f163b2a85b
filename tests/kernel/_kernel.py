"""A real Jupyter kernel driven the way a browser drives it: execute requests, and comm messages for clicks.

Every IOPub message is kept in ``log`` (background runs publish after their cell ended, under other
parents), so tests can look for the panel's comm traffic and the report's ``update_display_data``.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager

REPO = Path(__file__).resolve().parents[2]
IPYKERNEL6_DIR = REPO / ".venv" / "ipykernel6"
Message = dict[str, Any]


class KernelError(AssertionError):
    """A cell raised in the kernel; the message carries the traceback."""


class KernelSession:
    """One kernel process (``ipykernel_path``: a directory that shadows the venv's ipykernel)."""

    def __init__(self, ipykernel_path: Path | None = None) -> None:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        if ipykernel_path is not None:
            env["PYTHONPATH"] = str(ipykernel_path)
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        self.manager = KernelManager(kernel_name="python3")
        spec = self.manager.kernel_spec
        assert spec is not None, "no python3 kernel spec: is ipykernel installed in the venv?"
        spec.argv[0] = sys.executable
        self.manager.start_kernel(env=env, cwd=str(REPO))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.log: list[Message] = []
        self.major: int | None = None  # the ipykernel major version, once a test asked

    def shutdown(self) -> None:
        try:
            self.client.stop_channels()
        finally:
            self.manager.shutdown_kernel(now=True)

    # --- IOPub ---------------------------------------------------------------------------------------

    def pump(self, timeout: float = 0.05) -> None:
        """Move every IOPub message that arrives within ``timeout`` into ``log``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                msg = self.client.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                return
            self.log.append(msg)

    def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 20.0, start: int = 0) -> Message:
        """The first logged message (from index ``start``) matching ``predicate``, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        seen = start
        while True:
            for msg in self.log[seen:]:
                if predicate(msg):
                    return msg
            seen = len(self.log)
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching IOPub message within {timeout}s")
            self.pump(0.1)

    # --- execution -----------------------------------------------------------------------------------

    def execute(self, code: str, timeout: float = 60.0, *, allow_error: bool = False) -> list[Message]:
        """Run a cell; returns the IOPub messages whose parent is this cell (until the kernel is idle)."""
        msg_id = self.client.execute(code, store_history=True)
        start = len(self.log)
        self.wait_for(
            lambda m: (
                m["parent_header"].get("msg_id") == msg_id
                and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"
            ),
            timeout,
            start,
        )
        own = [m for m in self.log[start:] if m["parent_header"].get("msg_id") == msg_id]
        errors = [m for m in own if m["msg_type"] == "error"]
        if errors and not allow_error:
            raise KernelError("\n".join(errors[0]["content"]["traceback"]))
        return own

    def stdout(self, code: str, timeout: float = 60.0) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.execute(code, timeout)
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )

    def eval_json(self, expr: str, timeout: float = 60.0) -> Any:
        """The value of ``expr`` in the kernel, through JSON."""
        out = self.stdout(f"import json as _json\nprint(_json.dumps({expr}))", timeout)
        return json.loads(out.strip().splitlines()[-1])

    # --- what the browser sends ----------------------------------------------------------------------

    def comm_msg(self, comm_id: str, data: dict[str, Any]) -> None:
        msg = self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.client.shell_channel.send(msg)

    def click(self, comm_id: str) -> None:
        """A Button click, exactly as @jupyter-widgets/base sends it."""
        self.comm_msg(comm_id, {"method": "custom", "content": {"event": "click"}})

    def type_text(self, comm_id: str, text: str) -> None:
        """A text widget's new value, as the browser syncs it."""
        self.comm_msg(comm_id, {"method": "update", "state": {"value": text}, "buffer_paths": []})


def widget_updates(log: list[Message], comm_id: str) -> list[dict[str, Any]]:
    """The ``state`` of every update the kernel sent for one widget, in order."""
    return [
        m["content"]["data"].get("state", {})
        for m in log
        if m["msg_type"] == "comm_msg"
        and m["content"].get("comm_id") == comm_id
        and m["content"]["data"].get("method") == "update"
    ]


def display_messages(log: list[Message], display_id: str) -> list[Message]:
    """``display_data`` and ``update_display_data`` messages for one display id."""
    return [
        m
        for m in log
        if m["msg_type"] in ("display_data", "update_display_data")
        and (m["content"].get("transient") or {}).get("display_id") == display_id
    ]

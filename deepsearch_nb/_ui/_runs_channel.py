"""The kernel's side of the runs sidebar: a comm that tells every front end which runs this kernel has.

The JupyterLab extension registers the comm target ``deepsearch_nb.runs`` on the kernel connection of
every notebook it shows. This module opens one comm there when the kernel's first run starts; IOPub
reaches every connected front end, and one that connects later (a reloaded page, a second tab) finds the
comm with a ``comm_info_request`` and asks for a ``refresh``. The comm receives a snapshot of every run
this kernel made (live, waiting, finished) whenever one changes: state, stage, elapsed time, the
question it waits on, the cell that started it. Snapshots are built from the runtime's events only
(``Run.subscribe``), never by polling, and chunk events are coalesced to one snapshot per
:data:`CHUNK_UPDATE_S`.

The front end sends back ``{"action": "hello" | "refresh" | "cancel" | "answer", "key": ..., "answer": ...}``
(``hello`` when the comm opens: a front end without the extension closes the comm unanswered, and the
kernel then stops opening it);
cancel and answer go through :meth:`Run.cancel` and :meth:`Run.submit`, as the panel's buttons do, so
the run's cell shows the same outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import DeepSearchError
from ..runtime import AnswerSubmitted, HitlRequested, Run, RunEvent, StateChanged
from ._parts import final_stage

__all__ = ["CHUNK_UPDATE_S", "TARGET", "RunsChannel", "runs_channel"]

TARGET = "deepsearch_nb.runs"
CHUNK_UPDATE_S = 0.5  # at most two snapshots a second while chunks stream
MAX_FINISHED = 50  # finished runs kept in the snapshot (the oldest are dropped; saved ones stay on disk)
_log = logging.getLogger("deepsearch_nb.ui")


@dataclass
class _Tracked:
    run: Run
    cell_id: str | None
    unsubscribe: Callable[[], None]


class RunsChannel:
    """Every run of this kernel, sent to the front ends on the kernel's comm (IOPub reaches all of them)."""

    def __init__(self, create_comm: Callable[..., Any] | None = None) -> None:
        self._runs: dict[str, _Tracked] = {}
        self._comms: list[Any] = []
        self._create_comm = create_comm
        self._heard_front_end = False  # a front end with the extension said hello on a comm
        self._refused = False  # the comm was closed before any front end said hello: none has the extension
        self._pending_send: asyncio.Handle | None = None

    # --- runs ----------------------------------------------------------------------------------------

    def track(self, run: Run, cell_id: str | None = None) -> None:
        """Follow ``run`` (its events) and announce it; the first call opens the kernel's comm."""
        if run.key in self._runs:
            return
        unsubscribe = run.subscribe(lambda event: self._on_event(run, event))
        self._runs[run.key] = _Tracked(run, cell_id, unsubscribe)
        self._forget_old()
        if not self._comms and not self._refused:  # the first run, or the front ends closed it: open it (again)
            self._open()
        self.send()

    def _forget_old(self) -> None:
        finished = [k for k, t in self._runs.items() if t.run.state.terminal]
        for key in finished[: max(0, len(finished) - MAX_FINISHED)]:
            self._runs.pop(key).unsubscribe()

    def _on_event(self, run: Run, event: RunEvent) -> None:
        if isinstance(event, StateChanged | HitlRequested | AnswerSubmitted):
            self.send()
        elif self._pending_send is None:  # a chunk: one snapshot per CHUNK_UPDATE_S at most
            self._pending_send = run.loop.call_later(CHUNK_UPDATE_S, self._send_pending)

    def _send_pending(self) -> None:
        self._pending_send = None
        self.send()

    def snapshot(self) -> list[dict[str, Any]]:
        """What the sidebar shows of each run, oldest first."""
        return [_describe(t.run, t.cell_id) for t in self._runs.values()]

    # --- comms ---------------------------------------------------------------------------------------

    def _factory(self) -> Callable[..., Any]:
        if self._create_comm is not None:
            return self._create_comm
        import comm

        return comm.create_comm

    def _open(self) -> None:
        """Open the kernel's comm; every front end with the extension hears the open (IOPub goes to all)."""
        try:
            self._attach(self._factory()(target_name=TARGET, data={"runs": []}))
        except Exception as exc:  # no kernel comm manager (a plain IPython): the sidebar is only absent
            _log.debug("deepsearch_nb: could not open the runs comm: %s", exc)

    def _attach(self, comm: Any) -> None:
        self._comms.append(comm)
        comm.on_msg(self._on_msg)
        comm.on_close(lambda _msg: self._on_close(comm))

    def _on_close(self, comm: Any) -> None:
        """A front end without the extension closes the comm at once (no target): do not open it again for
        every run, which would log an error in that front end each time."""
        if comm in self._comms:
            self._comms.remove(comm)
        if not self._heard_front_end:
            self._refused = True

    def send(self) -> None:
        """Send the snapshot to every comm (a closed one is dropped)."""
        if self._pending_send is not None:
            self._pending_send.cancel()
            self._pending_send = None
        data = {"runs": self.snapshot()}
        for comm in list(self._comms):
            try:
                comm.send(data)
            except Exception:  # a front end that went away
                self._comms.remove(comm)

    def _on_msg(self, msg: dict[str, Any]) -> None:
        data = msg.get("content", {}).get("data", {})
        if not isinstance(data, dict):
            return
        action, key = data.get("action"), data.get("key")
        self._heard_front_end = True
        tracked = self._runs.get(str(key)) if key is not None else None
        try:
            if action == "cancel" and tracked is not None:
                tracked.run.cancel("cancelled from the runs sidebar")
            elif action == "answer" and tracked is not None:
                tracked.run.submit(str(data.get("answer", "")))  # coerced for the question asked, as typed
        except DeepSearchError as exc:  # a run that ended meanwhile, an answer that does not fit: say so
            for comm in list(self._comms):
                comm.send({"error": str(exc), "key": key})
        self.send()


def _stage(run: Run) -> str:
    if run.pending is not None:
        return "waiting for your answer"
    return final_stage(run.state) if run.state.terminal else run.progress.stage


def _tokens(run: Run) -> int | None:
    """Tokens in and out as the agent reported them (``Run.usage``); None when unknown (no LLM calls seen)."""
    try:
        usage = run.usage
    except Exception:  # an older runtime or a malformed result: the sidebar shows none
        return None
    if not usage.get("calls"):
        return None
    return int(usage.get("input_tokens") or 0) + int(usage.get("output_tokens") or 0)


def _describe(run: Run, cell_id: str | None) -> dict[str, Any]:
    pending = run.pending
    return {
        "key": run.key,
        "conversation_id": run.conversation_id,
        "question": run.question,
        "state": run.state.value,
        "stage": _stage(run),
        "elapsed_s": round(run.elapsed_s, 1),
        "started_at": run.started_at.isoformat(),
        "chunks": run.chunk_total,
        "tokens": _tokens(run),
        "cell_id": cell_id,
        "pending": None
        if pending is None
        else {"stage": pending.stage.value, "prompt": pending.prompt, "questions": pending.questions},
        "error": run.error,
    }


_CHANNEL: RunsChannel | None = None


def runs_channel() -> RunsChannel:
    """This kernel's channel (one per process)."""
    global _CHANNEL
    if _CHANNEL is None:
        _CHANNEL = RunsChannel()
    return _CHANNEL

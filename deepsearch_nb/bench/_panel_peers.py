"""Panel (HoloViz), what a notebook user would pick instead of our panel, streaming the same text.

Two ways Panel offers to stream text: a Markdown pane with ``enable_streaming=True`` (``md.object +=
chunk``, sent as ``html_stream`` patches) and ``ChatFeed.stream(chunk, message=...)``. Each is driven by a
subscriber of the same run (same agent, same chunks, same pacing) as our stream view, on the same loop.

Without a browser and a kernel, Panel's notebook path is reproduced as JupyterLab runs it: the object's
``_repr_mimebundle_`` renders it with pyviz_comms' ``JupyterCommManager`` (subclassed only where it would
reach for the kernel: the server comm is a :class:`~deepsearch_nb.testing._comms.RecordingComm` instead of
ipykernel's ``Comm``, and the client comm registers with a stand-in for the kernel's comm manager); the
front-end opening the client comm is played (its ``_handle_open``), which opens the server comm. So each
message Panel sends is serialised and counted as ipykernel would send it. Counted: the messages sent
while the run streams, not the rendering.
"""

from __future__ import annotations

import asyncio
import contextlib
import types
from collections.abc import Callable, Iterator
from typing import Any

from ..runtime import ChunkReceived, RunEvent, RunManager, RunState
from ..testing import Pause, ScriptedAgent, many_chunks
from ..testing._comms import CommRecorder, RecordingComm, _Serialiser, recording_comms

__all__ = ["panel_available", "panel_bytes"]


def panel_available() -> bool:
    try:
        import panel  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _notebook_comms() -> Iterator[CommRecorder]:
    """pyviz_comms' Jupyter comm manager, its comms opened as recording comms (no kernel, no IPython)."""
    from panel.config import panel_extension
    from panel.io.state import state
    from pyviz_comms import JupyterComm, JupyterCommJS, JupyterCommManager  # type: ignore[import-untyped]

    with recording_comms() as recorder:
        serialiser = _Serialiser()
        targets: dict[str, Any] = {}

        class ServerComm(JupyterComm):  # type: ignore[misc]
            def init(self) -> None:  # what JupyterComm.init does, with ipykernel's Comm recorded
                self._comm = RecordingComm(target_name=self.id, data={}, _recorder=recorder, _serialiser=serialiser)
                self._comm.on_msg(self._handle_msg)
                if self._on_open:
                    self._on_open({})

        class ClientComm(JupyterCommJS):  # type: ignore[misc]
            def __init__(self, *args: Any) -> None:  # JupyterCommJS's, with the kernel's comm manager stood in
                super(JupyterCommJS, self).__init__(*args)
                self.manager = types.SimpleNamespace(targets=targets)
                targets[self.id] = self._handle_open

        class Manager(JupyterCommManager):  # type: ignore[misc]
            server_comm = ServerComm
            client_comm = ClientComm

        saved = (panel_extension._loaded, state._comm_manager)
        panel_extension._loaded = True  # what pn.extension() sets in a notebook
        state._comm_manager = Manager
        try:
            yield recorder
        finally:
            panel_extension._loaded, state._comm_manager = saved


def _shown(viewable: Any, recorder: CommRecorder) -> None:
    """Render ``viewable`` as a notebook output and open its comms as the front-end would."""
    viewable._repr_mimebundle_()
    serialiser = _Serialiser()
    for _server, client in list(viewable._comms.values()):
        browser_side = RecordingComm(target_name=client.id, data={}, _recorder=recorder, _serialiser=serialiser)
        client._handle_open(browser_side, {})


def _markdown() -> tuple[Any, Callable[[str], None]]:
    import panel as pn

    pane = pn.pane.Markdown("", enable_streaming=True)  # type: ignore[no-untyped-call]

    def append(text: str) -> None:
        pane.object += text

    return pane, append


def _chatfeed() -> tuple[Any, Callable[[str], None]]:
    import panel as pn

    feed = pn.chat.ChatFeed()  # type: ignore[no-untyped-call]
    message = feed.stream("", user="DeepSearch")

    def append(text: str) -> None:
        feed.stream(text, message=message)

    return feed, append


async def _streamed(kind: str, chunks: int, size: int, paced: bool) -> int:
    script: list[Any] = []
    for item in many_chunks(chunks, size=size):
        if paced:
            script.append(Pause(0.001))
        script.append(item)
    with _notebook_comms() as recorder:
        viewable, append = _markdown() if kind == "markdown" else _chatfeed()
        _shown(viewable, recorder)
        recorder.clear()
        manager = RunManager()
        run = manager.start(ScriptedAgent(script), "bench", conversation_id=f"panel_{kind}")

        def on_event(event: RunEvent) -> None:
            if isinstance(event, ChunkReceived) and event.chunk.event == "message" and event.chunk.content:
                append(event.chunk.content)

        run.subscribe(on_event)
        await run.wait()
        await asyncio.sleep(0)
        nbytes = recorder.nbytes
        await manager.drain(30)
    if run.state is not RunState.COMPLETED:
        raise RuntimeError(f"the Panel benchmark run ended {run.state.value}: {run.error}")
    return nbytes


def panel_bytes(kind: str, chunks: int, size: int, *, paced: bool) -> int:
    """Bytes Panel's ``kind`` (``markdown`` or ``chatfeed``) sent while ``chunks`` chunks streamed."""
    return asyncio.run(_streamed(kind, chunks, size, paced))

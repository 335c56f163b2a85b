"""A comm that records what a kernel would send for widgets, byte for byte, without a kernel.

The panel's tests and the streaming benchmark need to see exactly which messages the kernel would put on
IOPub and how large they are, because "bytes sent" is the cost that matters (jupyter-server drops IOPub
messages above 1000/s, and resending a growing string costs the square of its length). So each message is
built and serialised the way ipykernel's ``Comm.publish_msg`` does it: a ``jupyter_client`` Session
message (header, parent header, metadata, content), signed, with the comm topic as the routing identity.

``recording_comms()`` swaps the ``comm`` package's factory, which ipywidgets and anywidget both use to
open their comms, and restores it on exit.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import comm
from comm.base_comm import BaseComm

__all__ = ["CommRecorder", "RecordedMessage", "recording_comms"]


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """One message the kernel would have sent on IOPub."""

    msg_type: str  # comm_open, comm_msg or comm_close
    comm_id: str
    data: dict[str, Any]
    nbytes: int  # every ZMQ frame: identity, delimiter, signature, header, parent, metadata, content, buffers
    t: float  # time.perf_counter() when it was sent

    @property
    def method(self) -> str:
        """``update``, ``custom``, ``echo_update``... (``""`` for opens and closes)."""
        return str(self.data.get("method", ""))

    @property
    def state(self) -> dict[str, Any]:
        """The trait values an ``update`` (or the initial ``comm_open``) carries."""
        value = self.data.get("state", {})
        return value if isinstance(value, dict) else {}

    @property
    def custom(self) -> Any:
        """The content of a ``custom`` message (``widget.send(...)``)."""
        return self.data.get("content") if self.method == "custom" else None


@dataclass
class CommRecorder:
    """Every comm opened and every message sent while recording."""

    messages: list[RecordedMessage] = field(default_factory=list)
    comms: dict[str, RecordingComm] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(m.nbytes for m in self.messages)

    def clear(self) -> None:
        self.messages.clear()

    def for_comm(self, comm_id: str) -> list[RecordedMessage]:
        return [m for m in self.messages if m.comm_id == comm_id]

    def open_comm_ids(self, target: str | None = None) -> set[str]:
        """The comms still open; only those of ``target`` (e.g. ``"jupyter.widget"``) when given.

        A panel's widgets must all be closed when it is; the kernel's runs channel (the sidebar's comm)
        stays open for the kernel's life by design, so a check about widgets names their target.
        """
        return {cid for cid, c in self.comms.items() if not c._closed and target in (None, c.target_name)}

    def deliver(self, comm_id: str, data: dict[str, Any]) -> None:
        """Play a message from the front-end into the kernel side (e.g. a button click)."""
        target = self.comms[comm_id]
        target.handle_msg({"content": {"comm_id": comm_id, "data": data}, "buffers": []})

    def click(self, widget: Any) -> None:
        """What the browser sends when a Button is clicked."""
        self.deliver(widget.model_id, {"method": "custom", "content": {"event": "click"}})

    def type_text(self, widget: Any, text: str) -> None:
        """What the browser sends when a text input's value changes."""
        self.deliver(widget.model_id, {"method": "update", "state": {"value": text}, "buffer_paths": []})


class _Serialiser:
    """Serialises like ipykernel: a jupyter_client Session when available, else the same JSON by hand."""

    def __init__(self) -> None:
        self._parent = {
            "msg_id": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "username": "username",
            "session": uuid.uuid4().hex,
            "date": "2026-01-01T00:00:00.000000Z",
            "version": "5.3",
        }
        self._session: Any = None
        with contextlib.suppress(ImportError):
            from jupyter_client.session import Session

            self._session = Session(key=uuid.uuid4().hex.encode("ascii"), username="username")

    def size(self, msg_type: str, content: dict[str, Any], metadata: dict[str, Any], ident: bytes) -> int:
        if self._session is not None:
            msg = self._session.msg(msg_type, content, parent={"header": self._parent}, metadata=metadata)
            return sum(len(frame) for frame in self._session.serialize(msg, ident=ident))
        header = {**self._parent, "msg_id": uuid.uuid4().hex, "msg_type": msg_type}
        parts = [header, self._parent, metadata, content]
        packed = sum(len(json.dumps(p, ensure_ascii=False).encode("utf-8")) for p in parts)
        return len(ident) + len(b"<IDS|MSG>") + 64 + packed


class RecordingComm(BaseComm):
    """A comm whose ``publish_msg`` records the message and its serialised size."""

    recorder: CommRecorder
    serialiser: _Serialiser

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The recorder must be known before BaseComm.__init__ opens the comm (and publishes comm_open).
        self.recorder = kwargs.pop("_recorder")
        self.serialiser = kwargs.pop("_serialiser")
        super().__init__(*args, **kwargs)
        self.recorder.comms[self.comm_id] = self

    def publish_msg(
        self,
        msg_type: str,
        data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        buffers: list[bytes] | None = None,
        **keys: Any,
    ) -> None:
        data = {} if data is None else data
        content = {"data": data, "comm_id": self.comm_id, **keys}
        nbytes = self.serialiser.size(msg_type, _json_ready(content), metadata or {}, self.topic)
        nbytes += sum(len(memoryview(b).cast("B")) for b in buffers or ())
        self.recorder.messages.append(RecordedMessage(msg_type, self.comm_id, data, nbytes, time.perf_counter()))


def _json_ready(value: Any) -> Any:
    """Round-trip through JSON like ipykernel's ``json_clean`` (tuples become lists, etc.)."""
    return json.loads(json.dumps(value, default=str))


@contextlib.contextmanager
def recording_comms() -> Iterator[CommRecorder]:
    """Open every widget comm as a :class:`RecordingComm` until the block ends."""
    recorder = CommRecorder()
    serialiser = _Serialiser()
    previous: Callable[..., BaseComm] = comm.create_comm

    def create(*args: Any, **kwargs: Any) -> BaseComm:
        return RecordingComm(*args, _recorder=recorder, _serialiser=serialiser, **kwargs)

    comm.create_comm = create
    try:
        yield recorder
    finally:
        comm.create_comm = previous

"""The host's control channel on the wire: typed requests and replies, framing, authentication.

A control connection is a TCP socket on 127.0.0.1. Each side proves it knows the host's key
(kept in a 0600 file, see :mod:`.control`) with an HMAC-SHA256 challenge-response, then
messages travel as length-prefixed JSON frames. A request is one of the small models below,
told apart by ``op``; the host answers with one :class:`Reply` (or, for a streaming request,
several frames ending with a :class:`Reply`). JSON, not pickle: a frame can never run code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import struct
from collections.abc import Generator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..errors import ControlError

__all__ = [
    "Request",
    "Status",
    "StartServer",
    "StopServer",
    "Select",
    "Open",
    "SelectRois",
    "Import",
    "Shutdown",
    "StartRun",
    "CancelRun",
    "OutputFrame",
    "Answer",
    "Reply",
    "parse_request",
    "send_frame",
    "recv_frame",
    "prove_client",
    "prove_server",
    "HANDSHAKE_SECONDS",
    "MAX_FRAME_BYTES",
]

#: A peer that has not finished the handshake within this many seconds is dropped.
HANDSHAKE_SECONDS = 5.0
#: No control message is near this size; anything larger is refused before it is read.
MAX_FRAME_BYTES = 16 * 1024 * 1024
_CHALLENGE_BYTES = 32
_HEADER = struct.Struct(">I")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Status(_Message):
    """What the host serves: pid, ports, database and its counts."""

    op: Literal["status"] = "status"


class StartServer(_Message):
    """Start serving OsiriXService on a port of 127.0.0.1."""

    op: Literal["start"] = "start"
    port: Annotated[int, Field(ge=1, le=65535)]


class StopServer(_Message):
    """Stop serving a port (the host keeps running)."""

    op: Literal["stop"] = "stop"
    port: Annotated[int, Field(ge=1, le=65535)]


class Select(_Message):
    """Set the database browser's selection, by StudyInstanceUID and SeriesInstanceUID."""

    op: Literal["select"] = "select"
    studies: list[str] = Field(default_factory=list)
    series: list[str] = Field(default_factory=list)


class Open(_Message):
    """Open a 2D viewer on a series, as a double-click in the browser (``frames`` > 1: a 4D viewer)."""

    op: Literal["open"] = "open"
    series: str
    frames: Annotated[int, Field(ge=1, le=1000)] = 1


class SelectRois(_Message):
    """Select the frontmost viewer's ROIs with this name (the others are deselected)."""

    op: Literal["select_rois"] = "select_rois"
    name: str


class Import(_Message):
    """Import DICOM files or folders into the host's database."""

    op: Literal["import"] = "import"
    paths: list[str]
    copy_files: bool = True


class Shutdown(_Message):
    """Stop every server and exit."""

    op: Literal["shutdown"] = "shutdown"


class StartRun(_Message):
    """Start the task ``name`` of the caller's registry in the host, and (unless ``background``)
    stream its output back as :class:`OutputFrame` frames, then the final record in a Reply."""

    op: Literal["run"] = "run"
    name: str
    type: str | None = None
    args: list[str] = Field(default_factory=list)
    #: host:port the task talks to (``OSIRIX_TASKS_SERVER``); None: none is known.
    server: str | None = None
    timeout: Annotated[float, Field(gt=0)] | None = None
    background: bool = False
    #: The caller's tasks.toml, run store, and environment (HOME and the inherited variables).
    registry: str
    store: str | None = None
    environ: dict[str, str] = Field(default_factory=dict)


class CancelRun(_Message):
    """Stop a run and its whole process group (SIGTERM, SIGKILL after ``grace`` seconds)."""

    op: Literal["cancel"] = "cancel"
    run_id: str
    grace: Annotated[float, Field(ge=0, le=3600)] = 5.0
    store: str | None = None


Request = Annotated[
    Status | StartServer | StopServer | Select | Open | SelectRois | Import | Shutdown | StartRun | CancelRun,
    Field(discriminator="op"),
]
_REQUEST = TypeAdapter(Request)


class Reply(_Message):
    """The host's answer: ``ok``, a message for people, and data for programs."""

    ok: bool
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class OutputFrame(_Message):
    """A piece of a streamed run's output (stream 1 stdout, 2 stderr, 0 the runner's own lines)."""

    event: Literal["output"] = "output"
    stream: int
    text: str


#: What a handler gives back: one reply, or frames ending with a reply.
Answer = Reply | Generator[OutputFrame | Reply, None, None]


def parse_request(payload: Any) -> Request:
    """A request model from a decoded frame; ControlError saying what is wrong otherwise."""
    try:
        return _REQUEST.validate_python(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'request'}: {error['msg']}" for error in exc.errors()
        )
        raise ControlError(f"malformed control request: {problems}") from None


def send_frame(sock: socket.socket, payload: Any) -> None:
    """Send one JSON frame."""
    data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        count = sock.recv_into(view[got:], size - got)
        if count == 0:
            raise ControlError("the other side closed the control connection")
        got += count
    return bytes(buffer)


def recv_frame(sock: socket.socket) -> Any:
    """Receive one JSON frame (ControlError when it is too large or not JSON)."""
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if size > MAX_FRAME_BYTES:
        raise ControlError(f"a control frame of {size} bytes is larger than the {MAX_FRAME_BYTES} allowed")
    try:
        return json.loads(_recv_exact(sock, size))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(f"a control frame is not JSON: {exc}") from None


def _digest(key: bytes, challenge: bytes, role: bytes) -> bytes:
    return hmac.new(key, role + challenge, hashlib.sha256).digest()


def prove_server(sock: socket.socket, key: bytes) -> None:
    """The host's side of the handshake: challenge the client, then answer its challenge.

    Raises ControlError when the client does not know the key.
    """
    challenge = secrets.token_bytes(_CHALLENGE_BYTES)
    sock.sendall(challenge)
    answer = _recv_exact(sock, 32 + _CHALLENGE_BYTES)
    if not hmac.compare_digest(answer[:32], _digest(key, challenge, b"client")):
        raise ControlError("a control client failed authentication")
    sock.sendall(_digest(key, answer[32:], b"server"))


def prove_client(sock: socket.socket, key: bytes) -> None:
    """The client's side of the handshake; ControlError when the host does not know the key."""
    challenge = _recv_exact(sock, _CHALLENGE_BYTES)
    mine = secrets.token_bytes(_CHALLENGE_BYTES)
    sock.sendall(_digest(key, challenge, b"client") + mine)
    try:
        proof = _recv_exact(sock, 32)
    except ControlError:
        raise ControlError("the host refused our key (authentication failed) - is its host file stale?") from None
    if not hmac.compare_digest(proof, _digest(key, mine, b"server")):
        raise ControlError("the host failed authentication (is its host file stale?)")

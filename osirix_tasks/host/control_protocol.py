"""The host's control channel on the wire: typed requests and replies, framing, authentication.

A control connection is a Unix socket in the user's 0700 runtime folder. Each side proves it knows the host's key
(kept in a 0600 file, see :mod:`.control`) with an HMAC-SHA256 challenge-response, then
messages travel as length-prefixed JSON frames. A request is one of the small dataclasses below,
told apart by ``op``, and validated by the host (with pydantic; the client side stays light). The
host answers with one :class:`Reply` (or, for a streaming request, several frames ending with a
:class:`Reply`). JSON, not pickle: a frame can never run code.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import secrets
import socket
import struct
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le

from ..errors import ControlError

__all__ = [
    "Request",
    "Status",
    "StartServer",
    "StopServer",
    "Select",
    "Open",
    "SelectRois",
    "DeselectRois",
    "BringToFront",
    "TextAnchors",
    "WhatChanged",
    "Reset",
    "Import",
    "ImportInBackground",
    "ImportOutcome",
    "Shutdown",
    "StartRun",
    "CancelRun",
    "OutputFrame",
    "RUN_ID_STREAM",
    "Answer",
    "Reply",
    "parse_request",
    "payload",
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


_FORBID_EXTRA = {"extra": "forbid"}  # pydantic's config for these dataclasses, when the host validates them
Port = Annotated[int, Ge(1), Le(65535)]


@dataclass(frozen=True, kw_only=True)
class Status:
    """What the host serves: pid, ports, database and its counts."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["status"] = "status"


@dataclass(frozen=True, kw_only=True)
class StartServer:
    """Start serving OsiriXService on a port of 127.0.0.1."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["start"] = "start"
    port: Port


@dataclass(frozen=True, kw_only=True)
class StopServer:
    """Stop serving a port (the host keeps running)."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["stop"] = "stop"
    port: Port


@dataclass(frozen=True, kw_only=True)
class Select:
    """Set the database browser's selection, by StudyInstanceUID and SeriesInstanceUID."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["select"] = "select"
    studies: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Delete:
    """Delete studies and series from the database, by StudyInstanceUID and SeriesInstanceUID, as
    OsiriX's Delete does: the viewers showing them close, the files the database copied go."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["delete"] = "delete"
    studies: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Open:
    """Open a 2D viewer on a series, as a double-click in the browser (``frames`` > 1: a 4D viewer)."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["open"] = "open"
    series: str
    frames: Annotated[int, Ge(1), Le(1000)] = 1
    slice: Annotated[int, Ge(0)] | None = None  # the slice to show (the protocol's index, from 0); default: the first


@dataclass(frozen=True, kw_only=True)
class SelectRois:
    """Select ROIs as clicking them does (the viewer's others are deselected): those named ``name`` in
    the frontmost viewer, or exactly the ROIs ``uids`` of the viewer ``viewer`` (none: deselect all).
    By name, OsiriX selects on the displayed slice: on ``slice`` (shown first), else on the displayed
    slice, else on the first slice holding one (shown). ``slice`` is the protocol's index (from 0); the
    reply names images as OsiriX shows them, from 1."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["select_rois"] = "select_rois"
    name: str | None = None
    viewer: str | None = None
    uids: list[str] | None = None
    slice: Annotated[int, Ge(0)] | None = None


@dataclass(frozen=True, kw_only=True)
class DeselectRois:
    """Deselect every ROI of the frontmost viewer (a click on an empty part of the image)."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["deselect_rois"] = "deselect_rois"


@dataclass(frozen=True, kw_only=True)
class BringToFront:
    """Make a 2D viewer (``ViewerController``) or 3D window (``VRController``) the frontmost of its kind,
    as clicking its window does."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["front"] = "front"
    uid: str
    kind: Literal["ViewerController", "VRController"]


@dataclass(frozen=True, kw_only=True)
class TextAnchors:
    """Where text ROIs sit (their rect's origin): OsiriX's ``-points`` of a text ROI is empty, so the
    protocol cannot tell; the host can. The reply's data maps each uid to ``[x, y]``."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["text_anchors"] = "text_anchors"
    uids: list[str]


@dataclass(frozen=True, kw_only=True)
class WhatChanged:
    """The emulator's change counters (see :mod:`osirix_tasks.emulator.changes`): the number of the last
    change (``now``), of the last ``browser``, ``windows`` and ``pixels`` change, and the versions of
    every 2D viewer (``viewers``) and 3D window (``vr``) changed after change number ``since``."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["changes"] = "changes"
    since: Annotated[int, Ge(0)] = 0


@dataclass(frozen=True, kw_only=True)
class Reset:
    """Back to the state after loading: every viewer and 3D window closed (their uids forgotten),
    the browser selection as it was when the host started. The database is kept."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["reset"] = "reset"


@dataclass(frozen=True, kw_only=True)
class Import:
    """Import DICOM files or folders into the host's database."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["import"] = "import"
    paths: list[str]
    copy_files: bool = True


@dataclass(frozen=True, kw_only=True)
class ImportInBackground:
    """Import DICOM files or folders in the background, as dropping them on OsiriX's browser does
    (CopyFilesIfNeeded); the reply's ``import`` is the number to ask :class:`ImportOutcome` about.
    ``discard``: files of ``paths`` deleted once imported (the page's uploads: only files in the
    per-user uploads folder are ever deleted)."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["import_background"] = "import_background"
    paths: list[str]
    discard: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ImportOutcome:
    """How a background import went, which the protocol cannot tell: ``done``, and once done what was
    imported, what was already there and what was skipped and why (``summary``, in the CLI's words)."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["import_outcome"] = "import_outcome"
    key: Annotated[int, Ge(1)]


@dataclass(frozen=True, kw_only=True)
class Shutdown:
    """Stop every server and exit."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["shutdown"] = "shutdown"


@dataclass(frozen=True, kw_only=True)
class StartRun:
    """Start the task ``name`` of the caller's registry in the host, and (unless ``background``)
    stream its output back as :class:`OutputFrame` frames, then the final record in a Reply."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["run"] = "run"
    name: str
    type: str | None = None
    args: list[str] = field(default_factory=list)
    #: host:port the task talks to (``OSIRIX_TASKS_SERVER``); None: none is known.
    server: str | None = None
    timeout: Annotated[float, Gt(0)] | None = None
    background: bool = False
    #: The caller's tasks.toml, run store, and environment (HOME and the inherited variables).
    registry: str
    store: str
    environ: dict[str, str] = field(default_factory=dict)
    #: Variables laid over the run's environment last.
    env: dict[str, str] = field(default_factory=dict)
    #: What the run acts on (the fields of :class:`osirix_tasks.contract.Target`); None: what the user looks at.
    target: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class CancelRun:
    """Stop a run and its whole process group (SIGTERM, SIGKILL after ``grace`` seconds)."""

    __pydantic_config__ = _FORBID_EXTRA
    op: Literal["cancel"] = "cancel"
    run_id: str
    grace: Annotated[float, Ge(0), Le(3600)] = 5.0
    #: The run store of the run; None: the host's own runs only.
    store: str | None = None


Request = (
    Status
    | StartServer
    | StopServer
    | Select
    | Delete
    | Open
    | SelectRois
    | DeselectRois
    | BringToFront
    | TextAnchors
    | WhatChanged
    | Reset
    | Import
    | ImportInBackground
    | ImportOutcome
    | Shutdown
    | StartRun
    | CancelRun
)


@dataclass(frozen=True, kw_only=True)
class Reply:
    """The host's answer: ``ok``, a message for people, and data for programs."""

    ok: bool
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: Any) -> Reply:
        """A reply from a decoded frame (ControlError when it is not one)."""
        if not (isinstance(payload, dict) and isinstance(payload.get("ok"), bool)):
            raise ControlError(f"the host answered something that is not a reply: {str(payload)[:200]}")
        return cls(ok=payload["ok"], message=str(payload.get("message", "")), data=dict(payload.get("data") or {}))


#: The stream number of the first frame of a streamed run: its text is the run's id (so the caller can cancel it).
RUN_ID_STREAM = -1


@dataclass(frozen=True, kw_only=True)
class OutputFrame:
    """A piece of a streamed run's output (stream 1 stdout, 2 stderr, 0 the runner's own lines)."""

    event: Literal["output"] = "output"
    stream: int
    text: str

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> OutputFrame:
        """An output frame from a decoded frame."""
        return cls(stream=int(payload["stream"]), text=str(payload["text"]))


#: What a handler gives back: one reply, or frames ending with a reply.
Answer = Reply | Generator[OutputFrame | Reply, None, None]


def payload(message: Request | Reply | OutputFrame) -> dict[str, Any]:
    """A message as the JSON object sent on the wire."""
    return dataclasses.asdict(message)


@functools.cache
def _request_adapter() -> Any:
    from pydantic import Field, TypeAdapter

    return TypeAdapter(Annotated[Request, Field(discriminator="op")])


def parse_request(data: Any) -> Request:
    """A request from a decoded frame, validated (host side; pydantic is imported here only);
    ControlError saying what is wrong otherwise."""
    from pydantic import ValidationError

    try:
        request: Request = _request_adapter().validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'request'}: {error['msg']}" for error in exc.errors()
        )
        raise ControlError(f"malformed control request: {problems}") from None
    return request


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
    try:
        challenge = _recv_exact(sock, _CHALLENGE_BYTES)
    except ControlError:
        raise ControlError(
            "the host closed the connection before the handshake: it has as many control connections open as it "
            "allows, or it is stopping - try again"
        ) from None
    mine = secrets.token_bytes(_CHALLENGE_BYTES)
    sock.sendall(_digest(key, challenge, b"client") + mine)
    try:
        proof = _recv_exact(sock, 32)
    except ControlError:
        raise ControlError("the host refused our key (authentication failed) - is its host file stale?") from None
    if not hmac.compare_digest(proof, _digest(key, mine, b"server")):
        raise ControlError("the host failed authentication (is its host file stale?)")

"""The host's side of the control channel: accept, authenticate, dispatch, answer.

The channel is a Unix socket (mode 0600) in the user's 0700 runtime folder: other users cannot
reach it at all, and on Linux a peer of another user (root aside) is refused by its credentials.
The key of the host file is a second wall. At most :data:`MAX_CONNECTIONS` connections are served
at once, each on its own thread; beyond that, new ones wait in the socket's backlog until a slot
frees, and a peer must finish the handshake within :data:`HANDSHAKE_SECONDS` and send its request
within :data:`REQUEST_SECONDS`, so idle connections free their slots quickly. Requests are
validated into their typed model; a malformed one gets an error reply, not a dropped connection.
``dispatch`` is the host's one entry point for every request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import ControlError
from .control_protocol import (
    HANDSHAKE_SECONDS,
    Answer,
    Reply,
    Request,
    parse_request,
    payload,
    prove_server,
    recv_frame,
    send_frame,
)

__all__ = ["ControlListener", "MAX_CONNECTIONS"]

log = logging.getLogger(__name__)

#: Connections handled at once; more are closed at once (a local flood cannot exhaust threads).
MAX_CONNECTIONS = 64
#: How long an authenticated client may take to send its request.
REQUEST_SECONDS = 30.0


def peer_uid(connection: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket (Linux), else None."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    try:
        _, uid, _ = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))
    except OSError:
        return None
    return int(uid)


class ControlListener:
    """Listens on a Unix socket at ``path`` and hands each request to ``dispatch``."""

    def __init__(self, key: bytes, dispatch: Callable[[Request], Answer], path: Path):
        self.key = key
        self.dispatch = dispatch
        self.path = Path(path)
        self.path.unlink(missing_ok=True)  # a socket left by a killed host of the same pid
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o600)
        self.sock.listen(128)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._closed = threading.Event()
        self._said_full = False

    def start(self) -> None:
        """Accept connections on a daemon thread."""
        threading.Thread(target=self._accept_loop, name="osirix-control", daemon=True).start()

    def close(self) -> None:
        """Stop accepting, and remove the socket."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self.sock.close()
        self.path.unlink(missing_ok=True)

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            if not self._take_slot():
                continue
            try:
                connection, _ = self.sock.accept()
            except OSError:
                self._slots.release()
                if self._closed.is_set():
                    return
                continue
            uid = peer_uid(connection)
            if uid is not None and uid not in (os.geteuid(), 0):
                log.warning("refused a control connection from user id %d (this host belongs to %d)", uid, os.geteuid())
                connection.close()
                self._slots.release()
                continue
            threading.Thread(target=self._serve, args=(connection,), name="osirix-control-conn", daemon=True).start()

    def _take_slot(self) -> bool:
        """Wait for a free connection slot; meanwhile new connections wait in the backlog. Said once
        in the log per time the host is full (not once per connection)."""
        if self._slots.acquire(timeout=0.5):
            self._said_full = False
            return True
        if not self._said_full:
            log.warning("%d control connections are open: new ones wait until one ends", MAX_CONNECTIONS)
            self._said_full = True
        return False

    def _serve(self, connection: socket.socket) -> None:
        try:
            with connection:
                connection.settimeout(HANDSHAKE_SECONDS)
                try:
                    prove_server(connection, self.key)
                except (OSError, ControlError) as exc:
                    log.warning("dropped a control connection before authentication: %s", exc)
                    return
                connection.settimeout(REQUEST_SECONDS)
                try:
                    payload = recv_frame(connection)
                except (OSError, ControlError) as exc:
                    log.warning("dropped a control connection: %s", exc)
                    return
                try:
                    answer = self.dispatch(parse_request(payload))
                except ControlError as exc:
                    answer = Reply(ok=False, message=str(exc))
                connection.settimeout(None)
                self._answer(connection, answer)
        finally:
            self._slots.release()

    @staticmethod
    def _answer(connection: socket.socket, answer: Answer) -> None:
        """Send one reply, or every frame of a stream; a client that goes away stops the stream only
        (what it was about, such as a run, goes on)."""
        frames = [answer] if isinstance(answer, Reply) else answer
        try:
            for frame in frames:
                send_frame(connection, payload(frame))
        except OSError as exc:
            log.info("a control client left before its answer ended: %s", exc)
        finally:
            if not isinstance(answer, Reply):
                answer.close()

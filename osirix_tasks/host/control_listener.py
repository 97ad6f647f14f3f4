"""The host's side of the control channel: accept, authenticate, dispatch, answer.

Every connection gets its own thread, and a peer must finish the handshake within
:data:`HANDSHAKE_SECONDS`, so an idle or hostile connection never delays anyone else. Requests
are validated into their typed model; a malformed one gets an error reply, not a dropped
connection. ``dispatch`` is the host's one entry point for every request.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable

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


class ControlListener:
    """Listens on 127.0.0.1 (an ephemeral port) and hands each request to ``dispatch``."""

    def __init__(self, key: bytes, dispatch: Callable[[Request], Answer]):
        self.key = key
        self.dispatch = dispatch
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.address: tuple[str, int] = self.sock.getsockname()[:2]
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._closed = threading.Event()

    def start(self) -> None:
        """Accept connections on a daemon thread."""
        threading.Thread(target=self._accept_loop, name="osirix-control", daemon=True).start()

    def close(self) -> None:
        """Stop accepting."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self.sock.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                if self._closed.is_set():
                    return
                continue
            if not self._slots.acquire(blocking=False):
                log.warning("refused a control connection: %d are open already", MAX_CONNECTIONS)
                connection.close()
                continue
            threading.Thread(target=self._serve, args=(connection,), name="osirix-control-conn", daemon=True).start()

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

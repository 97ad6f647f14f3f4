"""Run the web app with uvicorn on a thread of the host process, on its own 127.0.0.1 port.

Every resource is bounded (see :mod:`.connections`, :mod:`.streams`, :mod:`.uploads`): request
heads must arrive within seconds, connections and event streams are capped, keep-alive connections
close after ``KEEP_ALIVE_SECONDS``, a request head is at most ``MAX_HEAD_BYTES``; messages a flood
repeats (uvicorn's, asyncio's) are logged once a minute, not once per connection.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PortUnavailable

if TYPE_CHECKING:
    import uvicorn

    from ..host.config import HostConfig
    from ..host.process import Host

__all__ = ["WebServer", "start_web", "serve_page"]

LOCALHOST = "127.0.0.1"
#: An idle keep-alive connection is closed after this.
KEEP_ALIVE_SECONDS = 5
#: Largest request head (request line and headers).
MAX_HEAD_BYTES = 64 * 1024


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOCALHOST, port))
    except OSError as exc:
        sock.close()
        raise PortUnavailable(
            f"web UI port {port} on {LOCALHOST} is not available ({exc.strerror}) - choose another with --web-port"
        ) from None
    sock.listen(128)
    return sock


@dataclass
class WebServer:
    """The page's server: port, token, and the thread uvicorn runs on."""

    port: int
    token: str
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def url(self) -> str:
        """The page's address with its token (what the user opens)."""
        return f"http://{LOCALHOST}:{self.port}/?token={self.token}"

    def info(self) -> dict[str, object]:
        """What the host reports about its page in its Status reply."""
        return {"port": self.port, "url": self.url}

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving (open event streams are closed)."""
        self._server.should_exit = True
        self._thread.join(timeout)


def start_web(
    host: Host | None,
    registry: Path,
    *,
    port: int = 0,
    address: str | None = None,
    stream_seconds: float | None = None,
) -> WebServer:
    """Serve the page for ``host`` (None: only a remote OsiriX at ``address``) and return once it listens.

    ``stream_seconds``: how long an event stream lasts before the page reconnects (default STREAM_SECONDS).
    """
    import uvicorn

    from .._support.log_once import quiet_repeats
    from .app import create_app
    from .connections import MAX_CONNECTIONS, ConnectionLimit, protocol_for
    from .page import Page

    token = secrets.token_urlsafe(32)
    sock = _bind(port)
    bound = int(sock.getsockname()[1])
    page = Page(host=host, registry=registry, chosen_address=address)
    if stream_seconds is not None:
        page.streams.seconds = stream_seconds
    app = create_app(page, token=token, port=bound)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        ws="none",
        loop="asyncio",
        http=protocol_for(ConnectionLimit()),
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=MAX_CONNECTIONS + 16,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
    )
    quiet_repeats("uvicorn.error", "asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=_serve, args=(server, sock), name="osirix-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise PortUnavailable(f"the web UI could not start on {LOCALHOST}:{bound}")
        time.sleep(0.01)
    return WebServer(bound, token, server, thread)


def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    """The web thread: uvicorn on an event loop of its own."""
    asyncio.run(server.serve(sockets=[sock]))


def serve_page(host: Host, config: HostConfig) -> WebServer:
    """The page of ``host`` as its config says (port, event stream length): what ``serve`` hands to
    :func:`osirix_tasks.host.run_host`."""
    return start_web(host, host.registry, port=config.web_port, stream_seconds=config.web_stream_seconds)

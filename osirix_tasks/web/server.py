"""Run the web app with uvicorn on a thread of the host process, on its own 127.0.0.1 port."""

from __future__ import annotations

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

    from ..host.process import Host

__all__ = ["WebServer", "start_web"]

LOCALHOST = "127.0.0.1"


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


def start_web(host: Host | None, registry: Path, *, port: int = 0, address: str | None = None) -> WebServer:
    """Serve the page for ``host`` (None: only a remote OsiriX at ``address``) and return once it listens."""
    import uvicorn

    from .app import create_app
    from .page import Page

    token = secrets.token_urlsafe(32)
    sock = _bind(port)
    bound = int(sock.getsockname()[1])
    page = Page(host=host, registry=registry, chosen_address=address)
    app = create_app(page, token=token, port=bound)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="osirix-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise PortUnavailable(f"the web UI could not start on {LOCALHOST}:{bound}")
        time.sleep(0.01)
    return WebServer(bound, token, server, thread)

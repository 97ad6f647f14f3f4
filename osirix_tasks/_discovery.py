"""Which OsiriX server to talk to (no gRPC import: the runner uses it before any connection)."""

from __future__ import annotations

import os

from .server_configs import read_servers

__all__ = ["SERVER_ENV", "NoServer", "server_address"]

SERVER_ENV = "OSIRIX_TASKS_SERVER"


class NoServer(RuntimeError):
    """No OsiriX server is known; the message says how to start or name one."""


def server_address(explicit: str | int | None = None) -> str:
    """``explicit`` (host:port or port), else $OSIRIX_TASKS_SERVER, else the first active server of
    server_configs.json."""
    if explicit:
        text = str(explicit)
        return text if ":" in text else f"127.0.0.1:{text}"
    env = os.environ.get(SERVER_ENV)
    if env:
        return env
    active = [s for s in read_servers() if s.active]
    if not active:
        raise NoServer("no active OsiriX server: start OsiriX with the OsiriXgrpc plugin, or the embedded one "
                       "with 'osirix-tasks serve', or set OSIRIX_TASKS_SERVER=127.0.0.1:PORT")
    return f"127.0.0.1:{active[0].port}"

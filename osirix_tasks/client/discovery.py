"""Which OsiriX server to talk to (no gRPC import: the runner uses it before any connection)."""

from __future__ import annotations

import os

from ..contract import Env
from ..errors import BadAddress, NoServer
from .server_configs import last_active_port, read_servers

__all__ = ["NoServer", "BadAddress", "parse_address", "server_address", "LOCAL_NAMES"]


#: Host names accepted for an OsiriX server: OsiriXgrpc listens on the loopback interface only.
LOCAL_NAMES = ("127.0.0.1", "localhost")


def parse_address(text: str | int) -> tuple[str, int]:
    """``PORT``, ``127.0.0.1:PORT`` or ``localhost:PORT`` as (host, port); BadAddress otherwise."""
    value = str(text).strip()
    host, _, port_text = value.rpartition(":")
    host = host or "127.0.0.1"
    if host not in LOCAL_NAMES:
        raise BadAddress(
            f"server {value!r}: {host!r} is not this machine - OsiriXgrpc servers listen on 127.0.0.1 only; "
            "give PORT or 127.0.0.1:PORT"
        )
    try:
        port = int(port_text)
    except ValueError:
        raise BadAddress(
            f"server {value!r}: the port {port_text!r} is not a number - give PORT or 127.0.0.1:PORT"
        ) from None
    if not 1 <= port <= 65535:
        raise BadAddress(f"server {value!r}: port {port} is out of range - use 1 to 65535")
    return host, port


def server_address(explicit: str | int | None = None) -> str:
    """``explicit`` (host:port or port), else $OSIRIX_TASKS_SERVER, else the last active server of
    server_configs.json.

    The last, not the first: pyosirix connects to the last active entry, so a task that uses
    pyosirix and one that uses osirix-tasks reach the same OsiriX without being told where.
    """
    if explicit:
        host, port = parse_address(explicit)
        return f"{host}:{port}"
    env = os.environ.get(Env.SERVER)
    if env:
        return env
    quick = last_active_port()
    if quick is not None:
        return f"127.0.0.1:{quick}"
    active = [s for s in read_servers() if s.active]
    if not active:
        raise NoServer(
            "no active OsiriX server: start OsiriX with the OsiriXgrpc plugin, or the embedded one "
            "with 'osirix-tasks serve', or set OSIRIX_TASKS_SERVER=127.0.0.1:PORT"
        )
    return f"127.0.0.1:{active[-1].port}"

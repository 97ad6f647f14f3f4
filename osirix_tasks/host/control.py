"""How the CLI reaches a running host: host files, and sending typed requests.

A host listens on 127.0.0.1 (see :mod:`.control_listener`) and describes itself in
``osirix-tasks-hosts/<pid>.json`` (mode 0600) under the OsiriXgrpc support folder, with a random
key. Only a process of the same user that can read that file can talk to it; the wire format and
the requests are in :mod:`.control_protocol`.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._support.paths import osirixgrpc_support_dir
from .._support.private import private_folder
from .._support.processes import pid_alive
from ..errors import ControlError
from .control_protocol import OutputFrame, Reply, Request, payload, prove_client, recv_frame, send_frame

__all__ = [
    "HostInfo",
    "hosts_folder",
    "live_hosts",
    "host_serving",
    "send",
    "ask",
    "stream",
    "ControlError",
    "new_authkey",
    "who_holds_port",
]


@dataclass(frozen=True)
class HostInfo:
    """What a running host publishes about itself."""

    pid: int
    address: tuple[str, int]
    authkey: str
    database: str
    path: Path
    #: The gRPC ports it serves (kept up to date in the file as servers start and stop).
    ports: tuple[int, ...] = ()
    #: Where its web page is (with its token), when it serves one.
    web_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "pid": self.pid,
            "address": list(self.address),
            "authkey": self.authkey,
            "database": self.database,
            "ports": list(self.ports),
            "web_url": self.web_url,
        }


def hosts_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Where running hosts describe themselves (for a process with ``environ`` when given)."""
    return osirixgrpc_support_dir(environ) / "osirix-tasks-hosts"


def new_authkey() -> str:
    """A fresh random key for a control channel."""
    return secrets.token_hex(32)


def publish(info: HostInfo) -> None:
    """Write (or rewrite) the host file atomically, readable by its owner only."""
    private_folder(info.path.parent)
    temporary = info.path.with_name(f".{info.path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(info.to_json(), handle)
    os.replace(temporary, info.path)


def live_hosts(environ: Mapping[str, str] | None = None) -> list[HostInfo]:
    """Hosts whose process is alive (as seen by a process with ``environ`` when given); files of dead
    hosts are removed."""
    found = []
    folder = hosts_folder(environ)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            info = HostInfo(
                int(data["pid"]),
                (data["address"][0], int(data["address"][1])),
                data["authkey"],
                data.get("database", ""),
                path,
                tuple(int(p) for p in data.get("ports", [])),
                data.get("web_url"),
            )
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue
        if pid_alive(info.pid):
            found.append(info)
        else:
            path.unlink(missing_ok=True)
    return found


def host_serving(port: int, environ: Mapping[str, str] | None = None) -> HostInfo | None:
    """The running host of ours that serves ``port``, if any (read from the host files: no round trip)."""
    return next((h for h in live_hosts(environ) if port in h.ports), None)


def _connect(info: HostInfo, timeout: float) -> socket.socket:
    try:
        sock = socket.create_connection(info.address, timeout=timeout)
    except OSError as exc:
        raise ControlError(
            f"cannot reach the host (pid {info.pid}) at {info.address[0]}:{info.address[1]}: {exc}"
        ) from exc
    try:
        prove_client(sock, bytes.fromhex(info.authkey))
    except (OSError, ControlError) as exc:
        sock.close()
        raise ControlError(f"cannot talk to the host (pid {info.pid}): {exc}") from exc
    return sock


def send(info: HostInfo, request: Request, timeout: float = 120.0) -> Reply:
    """Send one request to a host and return its reply, whatever it says (ControlError when unreachable)."""
    sock = _connect(info, timeout)
    try:
        send_frame(sock, payload(request))
        return Reply.from_payload(recv_frame(sock))
    except TimeoutError:
        raise ControlError(f"host {info.pid} did not answer within {timeout:.0f} s") from None
    except OSError as exc:
        raise ControlError(f"the host (pid {info.pid}) dropped the control connection: {exc}") from exc
    finally:
        sock.close()


def ask(info: HostInfo, request: Request, timeout: float = 120.0) -> Reply:
    """Send one request and return the reply; ControlError with the host's message when it refuses."""
    reply = send(info, request, timeout)
    if not reply.ok:
        raise ControlError(reply.message or "the host refused the request")
    return reply


def stream(info: HostInfo, request: Request, timeout: float = 120.0) -> Iterator[OutputFrame | Reply]:
    """Send a streaming request: yields its frames as they come, ending with the Reply.

    ``timeout`` bounds the wait for the first frame only; a stream may last as long as a run.
    """
    sock = _connect(info, timeout)
    try:
        send_frame(sock, payload(request))
        sock.settimeout(None)
        while True:
            frame = recv_frame(sock)
            if isinstance(frame, dict) and frame.get("event") == "output":
                yield OutputFrame.from_payload(frame)
                continue
            yield Reply.from_payload(frame)
            return
    except OSError as exc:
        raise ControlError(f"the host (pid {info.pid}) dropped the control connection: {exc}") from exc
    finally:
        sock.close()


def who_holds_port(port: int) -> str | None:
    """A description of the process listening on 127.0.0.1/any:port, if it can be found."""
    import psutil

    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                return "another process (not visible to this user)"
            try:
                process = psutil.Process(conn.pid)
                return f"pid {conn.pid} ({' '.join(process.cmdline()[:4]) or process.name()})"
            except psutil.Error:
                return f"pid {conn.pid}"
    return None

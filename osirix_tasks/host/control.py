"""How the CLI reaches a running host: host files, and sending typed requests.

A host listens on a Unix socket in this user's runtime folder (mode 0700: no other user can even
reach the socket; see :func:`runtime_folder` and :mod:`.control_listener`) and describes itself in
``osirix-tasks-hosts/<pid>.json`` (mode 0600, in a 0700 folder) under the OsiriXgrpc support
folder, with a random key. The key is a second wall: a peer must also prove it read that file. The
wire format and the requests are in :mod:`.control_protocol`.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._support.paths import osirixgrpc_support_dir
from .._support.private import private_folder
from .._support.processes import pid_alive
from ..errors import ControlError
from .control_listener import MAX_CONNECTIONS
from .control_protocol import OutputFrame, Reply, Request, payload, prove_client, recv_frame, send_frame

__all__ = [
    "HostInfo",
    "runtime_folder",
    "hosts_folder",
    "live_hosts",
    "host_serving",
    "send",
    "ask",
    "stream",
    "ControlError",
    "new_authkey",
    "who_holds_port",
    "wait_gone",
]


@dataclass(frozen=True)
class HostInfo:
    """What a running host publishes about itself."""

    pid: int
    #: The Unix socket of its control channel.
    socket_path: str
    authkey: str
    database: str
    path: Path
    #: The gRPC ports it serves (kept up to date in the file as servers start and stop).
    ports: tuple[int, ...] = ()
    #: Where its web page is (with its token), when it serves one.
    web_url: str | None = None
    #: The tasks.toml it offers (its page, its menus).
    registry: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "pid": self.pid,
            "socket": self.socket_path,
            "authkey": self.authkey,
            "database": self.database,
            "ports": list(self.ports),
            "web_url": self.web_url,
            "registry": self.registry,
        }


def hosts_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Where running hosts describe themselves (for a process with ``environ`` when given)."""
    return osirixgrpc_support_dir(environ) / "osirix-tasks-hosts"


def runtime_folder() -> Path:
    """This user's folder for control sockets: ``$XDG_RUNTIME_DIR/osirix-tasks``, else
    ``<temp>/osirix-tasks-<uid>``; created 0700. One that is not a folder of ours (another user's, a
    link) is refused: its sockets could be someone else's."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        folder = Path(runtime) / "osirix-tasks"
    else:
        folder = Path(tempfile.gettempdir()) / f"osirix-tasks-{os.geteuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        found = folder.lstat()
    except OSError as exc:
        raise ControlError(f"cannot make the control folder {folder}: {exc} - check its parent's permissions") from None
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.geteuid():
        raise ControlError(
            f"{folder} is not a folder of this user (a link, or another user's) - remove it, or set XDG_RUNTIME_DIR "
            "to a private folder"
        )
    if stat.S_IMODE(found.st_mode) != 0o700:
        os.chmod(folder, 0o700)
    return folder


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
                str(data["socket"]),
                data["authkey"],
                data.get("database", ""),
                path,
                tuple(int(p) for p in data.get("ports", [])),
                data.get("web_url"),
                data.get("registry"),
            )
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue
        if pid_alive(info.pid):
            found.append(info)
        else:  # a host killed before it could clean up: its file, and its socket in our runtime folder
            path.unlink(missing_ok=True)
            socket_path = Path(info.socket_path)
            if socket_path.name.startswith("host-") and socket_path.parent == _runtime_folder_quietly():
                socket_path.unlink(missing_ok=True)
    return found


def _runtime_folder_quietly() -> Path | None:
    try:
        return runtime_folder()
    except ControlError:
        return None


def host_serving(port: int, environ: Mapping[str, str] | None = None) -> HostInfo | None:
    """The running host of ours that serves ``port``, if any (read from the host files: no round trip)."""
    return next((h for h in live_hosts(environ) if port in h.ports), None)


def _connect(info: HostInfo, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(info.socket_path)
    except FileNotFoundError:
        sock.close()
        raise ControlError(
            f"the host (pid {info.pid}) has no control socket at {info.socket_path} - it is stopping, or was started "
            "by another version; restart it"
        ) from None
    except TimeoutError:
        sock.close()
        raise ControlError(
            f"the host (pid {info.pid}) did not accept a control connection within {timeout:.0f} s - it is busy "
            f"(at most {MAX_CONNECTIONS} control connections at once) or hung"
        ) from None
    except OSError as exc:
        sock.close()
        raise ControlError(
            f"cannot reach the host (pid {info.pid}) at {info.socket_path}: {exc.strerror or exc}"
        ) from None
    try:
        prove_client(sock, bytes.fromhex(info.authkey))
    except TimeoutError:
        sock.close()
        raise ControlError(
            f"the host (pid {info.pid}) accepted but did not start the handshake within {timeout:.0f} s - it is busy "
            f"(at most {MAX_CONNECTIONS} control connections at once) or hung"
        ) from None
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


def wait_gone(info: HostInfo, timeout: float = 30.0) -> bool:
    """Wait until the host's process has exited (after a shutdown request), at most ``timeout`` seconds;
    whether it has. A command that stops a host returns only once the next command cannot find it."""
    deadline = time.monotonic() + timeout
    while pid_alive(info.pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True

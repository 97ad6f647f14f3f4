"""The host's control channel: how the CLI reaches a running host (start/stop servers, select...).

A host listens on 127.0.0.1 with :mod:`multiprocessing.connection` (HMAC-authenticated with a
random key) and describes itself in ``hosts/<pid>.json`` (mode 0600) under the plugin support
folder. Only a process of the same user that can read that file can talk to it.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from multiprocessing.connection import Client
from pathlib import Path
from typing import Any

import psutil

from .._paths import plugin_support_dir

__all__ = ["HostInfo", "hosts_folder", "live_hosts", "send", "ControlError", "new_authkey", "who_holds_port"]


class ControlError(RuntimeError):
    """The host could not be reached or refused the command; the message says why."""


@dataclass(frozen=True)
class HostInfo:
    """What a running host publishes about itself."""

    pid: int
    address: tuple[str, int]
    authkey: str
    database: str
    path: Path

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {"pid": self.pid, "address": list(self.address), "authkey": self.authkey,
                "database": self.database}


def hosts_folder() -> Path:
    """Where running hosts describe themselves."""
    return plugin_support_dir() / "osirix-tasks-hosts"


def new_authkey() -> str:
    """A fresh random key for a control channel."""
    return secrets.token_hex(32)


def publish(info: HostInfo) -> None:
    """Write the host file, readable by its owner only."""
    info.path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(info.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(info.to_json(), handle)


def live_hosts() -> list[HostInfo]:
    """Hosts whose process is alive; files of dead hosts are removed."""
    found = []
    folder = hosts_folder()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            info = HostInfo(int(data["pid"]), (data["address"][0], int(data["address"][1])),
                            data["authkey"], data.get("database", ""), path)
        except (OSError, ValueError, KeyError, IndexError):
            continue
        if psutil.pid_exists(info.pid):
            found.append(info)
        else:
            path.unlink(missing_ok=True)
    return found


def send(info: HostInfo, command: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
    """Send one command to a host and return its answer (raises ControlError on refusal)."""
    try:
        with Client(info.address, authkey=bytes.fromhex(info.authkey)) as connection:
            connection.send(command)
            if not connection.poll(timeout):
                raise ControlError(f"host {info.pid} did not answer within {timeout:.0f} s")
            answer: dict[str, Any] = connection.recv()
    except (OSError, EOFError) as exc:
        raise ControlError(f"cannot reach the host (pid {info.pid}) at {info.address[0]}:{info.address[1]}: "
                           f"{exc}") from exc
    if not answer.get("ok"):
        raise ControlError(str(answer.get("message", "the host refused the command")))
    return answer


def who_holds_port(port: int) -> str | None:
    """A description of the process listening on 127.0.0.1/any:port, if it can be found."""
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

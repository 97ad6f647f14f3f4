"""The plugin's ``server_configs.json``: the servers OsiriX (or our host) offers, in preference order.

Kept exactly in the plugin's format - a JSON array of ``{"ipaddress": "127.0.0.1", "port": "50051",
"active": "YES"}`` with the port as a string - in the folder pyosirix reads, so unmodified pyosirix
scripts connect to our servers on their own. The ``active`` flags are checked against reality
each time we read the file: an active entry whose port accepts no connection is marked "NO".
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .._support.atomic import restore_hint, write_atomic, writer_lock
from .._support.paths import osirixgrpc_support_dir
from ..errors import ServerConfigError, describe_validation_error

if TYPE_CHECKING:
    from ..model import ServerSpec

__all__ = [
    "ServerConfigError",
    "config_path",
    "read_servers",
    "write_servers",
    "update_servers",
    "port_is_listening",
    "free_port",
    "last_active_port",
]

FILE_NAME = "server_configs.json"
#: What to write in each field of an entry, for messages about it.
SERVER_FIELD_HINTS = {
    "ipaddress": 'write "127.0.0.1"',
    "port": 'give a port from 1 to 65535, e.g. "50051"',
    "active": 'write "YES" or "NO"',
}


def config_path() -> Path:
    """Where server_configs.json lives (the plugin's support folder)."""
    return osirixgrpc_support_dir() / FILE_NAME


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_listening(port: int, timeout: float = 0.3) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _parse(path: Path) -> list[ServerSpec]:
    from pydantic import ValidationError

    from ..model import ServerSpec

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        data = json.loads(text) if text.strip() else []
    except json.JSONDecodeError as exc:
        raise ServerConfigError(
            f"{path}:{exc.lineno}:{exc.colno}: JSON syntax error: {exc.msg} - fix it"
            + restore_hint(path, "osirix-tasks servers restore")
        ) from None
    if not isinstance(data, list):
        raise ServerConfigError(
            f"{path}: must be a JSON array of servers - fix it" + restore_hint(path, "osirix-tasks servers restore")
        )
    servers, problems, seen = [], [], set()
    for number, entry in enumerate(data, start=1):
        try:
            server = ServerSpec.model_validate(entry)
        except ValidationError as exc:
            for error in exc.errors():
                field = error["loc"][0] if error["loc"] else "entry"
                message = describe_validation_error(error, known=ServerSpec.model_fields, hints=SERVER_FIELD_HINTS)
                problems.append(f"{path}: server {number}: field '{field}': {message}")
            continue
        if server.port in seen:
            problems.append(f"{path}: server {number}: port {server.port} is listed twice - remove one")
            continue
        seen.add(server.port)
        servers.append(server)
    if problems:
        raise ServerConfigError("\n".join(problems))
    return servers


def write_servers(servers: list[ServerSpec], path: Path | None = None) -> None:
    """Write the list in the plugin's format (atomically, previous file kept as .bak)."""
    path = path or config_path()
    data = [s.to_plugin_json() for s in servers]
    write_atomic(path, json.dumps(data, indent=4).encode("utf-8"))


def update_servers(
    change: Callable[[list[ServerSpec]], list[ServerSpec]], path: Path | None = None
) -> list[ServerSpec]:
    """Read, change and write the list under the writer lock; returns the new list."""
    path = path or config_path()
    with writer_lock(path):
        servers = _parse(path)
        changed = change([s.model_copy() for s in servers])
        if [s.to_plugin_json() for s in changed] != [s.to_plugin_json() for s in servers] or not path.exists():
            write_servers(changed, path)
        return changed


def last_active_port(path: Path | None = None) -> int | None:
    """The port pyosirix picks - the last entry marked active - when the file is exactly in the plugin's
    format and that port answers; None otherwise (then :func:`read_servers` validates the file, says
    what is wrong, and corrects stale flags). Read without pydantic: the quick path of ``run``."""
    path = path or config_path()
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entries, list):
        return None
    port = None
    for entry in entries:
        if not (isinstance(entry, dict) and set(entry) == {"ipaddress", "port", "active"}):
            return None
        if entry["ipaddress"] != "127.0.0.1" or entry["active"] not in ("YES", "NO"):
            return None
        if not (isinstance(entry["port"], str) and entry["port"].isdigit() and 0 < int(entry["port"]) < 65536):
            return None
        if entry["active"] == "YES":
            port = int(entry["port"])
    return port if port is not None and port_is_listening(port) else None


def read_servers(path: Path | None = None, *, check_liveness: bool = True) -> list[ServerSpec]:
    """The servers in preference order; active flags of dead servers are corrected on disk."""
    path = path or config_path()
    servers = _parse(path)
    if not check_liveness or not any(s.active and not port_is_listening(s.port) for s in servers):
        return servers

    def correct(current: list[ServerSpec]) -> list[ServerSpec]:
        for server in current:
            if server.active and not port_is_listening(server.port):
                server.active = False
        return current

    return update_servers(correct, path)

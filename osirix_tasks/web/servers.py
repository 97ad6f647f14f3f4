"""The Server Configuration window's work: the plugin's server list, with start/stop on this host.

Adding follows the plugin's sheet: 127.0.0.1 only, a port in 1024-65535 ("Allowed range:
1024->65535"), not listed yet ("Address already contained"); we also refuse a port something
already listens on, naming the process. Start and stop act on this host through its control
requests; the list keeps the plugin's file format (see :mod:`osirix_tasks.client.server_configs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..client.server_configs import config_path, port_is_listening, read_servers, update_servers
from ..errors import OsirixTasksError, PortUnavailable
from ..host.control import who_holds_port
from ..host.control_protocol import StartServer, StopServer
from ..model import ServerSpec

if TYPE_CHECKING:
    from ..host.process import Host

__all__ = ["list_servers", "add_server", "remove_server", "start_server", "stop_server", "PORT_RANGE"]

#: The ports the plugin's "add server" sheet accepts.
PORT_RANGE = (1024, 65535)


def list_servers(host: Host | None) -> dict[str, Any]:
    """The configured servers in preference order, each with whether it is active and who serves it."""
    ours = set(host.ports()) if host is not None else set()
    return {
        "file": str(config_path()),
        "servers": [
            {
                "address": f"{s.ipaddress}:{s.port}",
                "port": s.port,
                "active": s.active,
                "ours": s.port in ours,
            }
            for s in read_servers()
        ],
    }


def parse_port(value: Any) -> int:
    """A port number from the form, or an error saying what is allowed (the plugin's wording)."""
    low, high = PORT_RANGE
    try:
        port = int(str(value).strip())
    except ValueError:
        raise OsirixTasksError(f"{value!r} is not a port number - Allowed range: {low}->{high}") from None
    if not low <= port <= high:
        raise OsirixTasksError(f"port {port} is out of range - Allowed range: {low}->{high}")
    return port


def add_server(value: Any) -> int:
    """Add 127.0.0.1:PORT to the list (inactive); refused when invalid, listed already, or in use."""
    port = parse_port(value)
    if port_is_listening(port):
        holder = who_holds_port(port) or "another process"
        raise PortUnavailable(f"port {port} is in use by {holder} - choose another port")

    def change(current: list[ServerSpec]) -> list[ServerSpec]:
        if any(s.port == port for s in current):
            raise OsirixTasksError(f"127.0.0.1:{port}: Address already contained")
        return [*current, ServerSpec(port=port)]

    update_servers(change)
    return port


def _require_host(host: Host | None) -> Host:
    if host is None:
        raise OsirixTasksError("this page is not served by an embedded OsiriX, so it cannot start or stop servers")
    return host


def start_server(host: Host | None, port: int) -> str:
    """Serve a listed port on this host."""
    if port not in [s.port for s in read_servers()]:
        raise OsirixTasksError(f"port {port} is not in the server list - add it first")
    reply = _require_host(host).request(StartServer(port=port))
    if not reply.ok:
        raise OsirixTasksError(reply.message)
    return reply.message


def stop_server(host: Host | None, port: int) -> str:
    """Stop serving a port of this host (the host and this page keep running)."""
    host = _require_host(host)
    if port not in host.ports():
        raise OsirixTasksError(f"port {port} is not served by this host")
    reply = host.request(StopServer(port=port))
    if not reply.ok:
        raise OsirixTasksError(reply.message)
    return reply.message


def remove_server(host: Host | None, port: int) -> None:
    """Remove a port from the list, stopping it first when this host serves it."""
    if port not in [s.port for s in read_servers()]:
        raise OsirixTasksError(f"port {port} is not in the server list")
    if host is not None and port in host.ports():
        stop_server(host, port)
    update_servers(lambda current: [s for s in current if s.port != port])

"""Which running host a command acts on (``--server`` or the only one), for the CLI's host commands."""

from __future__ import annotations

from ..client.discovery import parse_address
from ..errors import ControlError, OsirixTasksError
from ..host.control import HostInfo, ask, live_hosts
from ..host.control_protocol import Status

SERVER_OPTION_HELP = "The embedded OsiriX to act on: PORT or 127.0.0.1:PORT (default: the only one running)."


def hosts_by_port() -> dict[int, HostInfo]:
    """Every port served by a running host of ours, and that host."""
    found = {}
    for info in live_hosts():
        try:
            for port in ask(info, Status(), timeout=10).data["ports"]:
                found[port] = info
        except ControlError:
            continue
    return found


def pick_host(server: str | None) -> tuple[HostInfo, int]:
    """The host serving ``server``, or the only host running; refuses with the list when there are several."""
    served = hosts_by_port()
    if server is not None:
        _, port = parse_address(server)
        if port not in served:
            listing = ", ".join(str(p) for p in sorted(served)) or "none"
            raise OsirixTasksError(
                f"no embedded OsiriX of osirix-tasks serves port {port} (ports served: {listing}) - start one with "
                f"'osirix-tasks serve --port {port}' or pick another with --server"
            )
        return served[port], port
    hosts: dict[int, list[int]] = {}
    for port, info in sorted(served.items()):
        hosts.setdefault(info.pid, []).append(port)
    if not hosts:
        raise OsirixTasksError("no embedded OsiriX is running - start one with 'osirix-tasks serve'")
    if len(hosts) > 1:
        listing = "; ".join(f"pid {pid}: ports {', '.join(map(str, ports))}" for pid, ports in hosts.items())
        raise OsirixTasksError(f"several embedded OsiriX hosts are running ({listing}) - choose one with --server PORT")
    pid, ports = next(iter(hosts.items()))
    return served[ports[0]], ports[0]

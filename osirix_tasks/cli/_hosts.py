"""Which running host a command acts on (``--server`` or the only one), for the CLI's host commands."""

from __future__ import annotations

from ..client.discovery import parse_address
from ..errors import OsirixTasksError
from ..host.control import HostInfo, live_hosts

SERVER_OPTION_HELP = "The embedded OsiriX to act on: PORT or 127.0.0.1:PORT (default: the only one running)."


def hosts_by_port() -> dict[int, HostInfo]:
    """Every port served by a running host of ours, and that host: read from the host files, which
    each host keeps true as its servers start and stop (no round trip, so a busy or unreachable host
    is not taken for an absent one: the request itself says what is wrong)."""
    return {port: info for info in live_hosts() for port in info.ports}


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

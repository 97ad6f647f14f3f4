"""``osirix-tasks servers ...``: OsiriXgrpc's Server Configuration window."""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from ..client.server_configs import SERVER_FIELD_HINTS, config_path, port_is_listening, read_servers, update_servers
from ..errors import OsirixTasksError, PortUnavailable, describe_validation_error
from ..host.control import HostInfo, ask, live_hosts, wait_gone, who_holds_port
from ..host.control_protocol import Shutdown, StartServer, Status, StopServer
from ..model import ServerSpec
from ._common import emit_json
from ._hosts import hosts_by_port


@click.group()
def servers() -> None:
    """Configure the OsiriXgrpc servers (server_configs.json, in the plugin's format)."""


@servers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_servers(as_json: bool) -> None:
    """The servers in preference order, with the truth about which are active."""
    listed = read_servers()
    hosts = hosts_by_port()
    rows = [
        {
            "ipaddress": s.ipaddress,
            "port": s.port,
            "active": s.active,
            "host_pid": hosts[s.port].pid if s.port in hosts else None,
            "registry": hosts[s.port].registry if s.port in hosts else None,
        }
        for s in listed
    ]
    if as_json:
        emit_json({"file": str(config_path()), "servers": rows})
        return
    click.echo(f"{config_path()}")
    if not rows:
        click.echo("No servers configured - add one with 'osirix-tasks servers add PORT'.")
    for row in rows:
        state = click.style("active", fg="green") if row["active"] else "inactive"
        served = f"  (embedded OsiriX, pid {row['host_pid']}, registry {row['registry']})" if row["host_pid"] else ""
        click.echo(f"{row['ipaddress']}:{row['port']:<6} {state}{served}")


@servers.command("add")
@click.argument("port", type=int)
@click.option("--address", default="127.0.0.1", help="Only 127.0.0.1 is accepted, as in the plugin.")
def add_server(port: int, address: str) -> None:
    """Add a server entry (inactive until started)."""
    try:
        spec = ServerSpec(ipaddress=address, port=port)
    except ValidationError as exc:
        raise OsirixTasksError(
            "; ".join(
                f"field '{e['loc'][0]}': "
                + describe_validation_error(e, known=ServerSpec.model_fields, hints=SERVER_FIELD_HINTS)
                for e in exc.errors()
            )
        ) from None

    def change(current: list[ServerSpec]) -> list[ServerSpec]:
        if any(s.port == port for s in current):
            raise OsirixTasksError(
                f"port {port} is already configured - ports are unique; see 'osirix-tasks servers list'"
            )
        return [*current, spec]

    update_servers(change)
    click.echo(f"Added 127.0.0.1:{port} (inactive) to {config_path()}")


@servers.command("remove")
@click.argument("port", type=int)
def remove_server(port: int) -> None:
    """Remove a server entry (stopping it first if our host serves it)."""
    if port not in [s.port for s in read_servers()]:
        raise OsirixTasksError(f"port {port} is not configured - see 'osirix-tasks servers list'")
    host = hosts_by_port().get(port)
    if host is not None:
        _stop_on(host, port)
    update_servers(lambda current: [s for s in current if s.port != port])
    click.echo(f"Removed 127.0.0.1:{port}")


def _stop_on(host: HostInfo, port: int) -> None:
    ask(host, StopServer(port=port))
    if not ask(host, Status()).data["ports"]:
        ask(host, Shutdown())
        if not wait_gone(host):  # the next command (a new host, say) must not find this one
            click.echo(f"The host (pid {host.pid}) serves no port and is still shutting down.", err=True)


@servers.command("start")
@click.argument("port", type=int)
@click.option("--database", default=None, help="Database folder for a new host.")
def start_server(port: int, database: str | None) -> None:
    """Serve PORT: on the running embedded OsiriX, or by starting one in the background."""
    from ..host.config import HostConfig
    from ..host.spawn import spawn_host

    if port not in [s.port for s in read_servers()]:
        update_servers(lambda current: [*current, ServerSpec(port=port)])
    hosts = hosts_by_port()
    if port in hosts:
        click.echo(f"127.0.0.1:{port} is already served (pid {hosts[port].pid})")
        return
    if port_is_listening(port):
        holder = who_holds_port(port) or "another process"
        raise PortUnavailable(
            f"port {port} on 127.0.0.1 is held by {holder} - stop that process or choose another port"
        )
    running = live_hosts()
    if running:
        click.echo(ask(running[0], StartServer(port=port)).message)
        return
    config = HostConfig(ports=(port,), database=Path(database) if database else None)
    host = spawn_host(config, timeout=60)
    click.echo(
        f"Started an embedded OsiriX (pid {host.pid}) serving 127.0.0.1:{port}; its output goes to {host.log_path}"
    )


@servers.command("stop")
@click.argument("port", type=int)
def stop_server(port: int) -> None:
    """Stop serving PORT (the host exits when it serves nothing any more)."""
    host = hosts_by_port().get(port)
    if host is None:
        if port_is_listening(port):
            holder = who_holds_port(port) or "another process"
            raise OsirixTasksError(f"port {port} is served by {holder}, not by an osirix-tasks host - stop it there")
        raise OsirixTasksError(f"port {port} is not being served")
    _stop_on(host, port)
    click.echo(f"Stopped 127.0.0.1:{port}")


@servers.command("restore")
def restore_servers() -> None:
    """Put server_configs.json.bak back in place of a damaged server_configs.json."""
    from .._support.atomic import restore_backup

    path = config_path()
    backup = path.with_name(path.name + ".bak")
    read_servers(backup, check_liveness=False)
    broken = restore_backup(path)
    click.echo(f"Restored {path} from {backup.name}; the replaced file is kept as {broken.name}")

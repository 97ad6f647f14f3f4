"""``osirix-tasks servers ...`` and ``select``: the plugin's Server Configuration window."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import click
from pydantic import ValidationError

from ..model import ServerSpec
from ..server.control import ControlError, HostInfo, live_hosts, send, who_holds_port
from ..server_configs import ServerConfigError, config_path, port_is_listening, read_servers, update_servers
from ._common import emit_json, fail


def _hosts_by_port() -> dict[int, HostInfo]:
    found = {}
    for info in live_hosts():
        try:
            for port in send(info, {"op": "status"}, timeout=10)["ports"]:
                found[port] = info
        except ControlError:
            continue
    return found


def _servers() -> list[ServerSpec]:
    try:
        return read_servers()
    except ServerConfigError as exc:
        fail(str(exc))


@click.group()
def servers() -> None:
    """Configure the OsiriXgrpc servers (server_configs.json, in the plugin's format)."""


@servers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_servers(as_json: bool) -> None:
    """The servers in preference order, with the truth about which are active."""
    listed = _servers()
    hosts = _hosts_by_port()
    rows = [{"ipaddress": s.ipaddress, "port": s.port, "active": s.active,
             "host_pid": hosts[s.port].pid if s.port in hosts else None} for s in listed]
    if as_json:
        emit_json({"file": str(config_path()), "servers": rows})
        return
    click.echo(f"{config_path()}")
    if not rows:
        click.echo("No servers configured - add one with 'osirix-tasks servers add PORT'.")
    for row in rows:
        state = click.style("active", fg="green") if row["active"] else "inactive"
        served = f"  (embedded OsiriX, pid {row['host_pid']})" if row["host_pid"] else ""
        click.echo(f"{row['ipaddress']}:{row['port']:<6} {state}{served}")


@servers.command("add")
@click.argument("port", type=int)
@click.option("--address", default="127.0.0.1", help="Only 127.0.0.1 is accepted, as in the plugin.")
def add_server(port: int, address: str) -> None:
    """Add a server entry (inactive until started)."""
    try:
        spec = ServerSpec(ipaddress=address, port=port)
    except ValidationError as exc:
        fail("; ".join(str(e["ctx"]["error"]) if e["type"] == "value_error" else f"{e['loc'][0]}: {e['msg']}"
                       for e in exc.errors()))

    def change(current: list[ServerSpec]) -> list[ServerSpec]:
        if any(s.port == port for s in current):
            fail(f"port {port} is already configured - ports are unique; see 'osirix-tasks servers list'")
        return [*current, spec]

    _update(change)
    click.echo(f"Added 127.0.0.1:{port} (inactive) to {config_path()}")


def _update(change: Callable[[list[ServerSpec]], list[ServerSpec]]) -> list[ServerSpec]:
    try:
        return update_servers(change)
    except ServerConfigError as exc:
        fail(str(exc))


@servers.command("remove")
@click.argument("port", type=int)
def remove_server(port: int) -> None:
    """Remove a server entry (stopping it first if our host serves it)."""
    if port not in [s.port for s in _servers()]:
        fail(f"port {port} is not configured - see 'osirix-tasks servers list'")
    host = _hosts_by_port().get(port)
    if host is not None:
        _stop_on(host, port)
    _update(lambda current: [s for s in current if s.port != port])
    click.echo(f"Removed 127.0.0.1:{port}")


def _stop_on(host: HostInfo, port: int) -> None:
    try:
        send(host, {"op": "stop", "port": port})
        if not send(host, {"op": "status"})["ports"]:
            send(host, {"op": "shutdown"})
    except ControlError as exc:
        fail(str(exc))


@servers.command("start")
@click.argument("port", type=int)
@click.option("--database", default=None, help="Database folder for a new host.")
def start_server(port: int, database: str | None) -> None:
    """Serve PORT: on the running embedded OsiriX, or by starting one in the background."""
    if port not in [s.port for s in _servers()]:
        _update(lambda current: [*current, ServerSpec(port=port)])
    hosts = _hosts_by_port()
    if port in hosts:
        click.echo(f"127.0.0.1:{port} is already served (pid {hosts[port].pid})")
        return
    if port_is_listening(port):
        holder = who_holds_port(port) or "another process"
        fail(f"port {port} on 127.0.0.1 is held by {holder} - stop that process or choose another port")
    running = live_hosts()
    if running:
        try:
            click.echo(send(running[0], {"op": "start", "port": port})["message"])
        except ControlError as exc:
            fail(str(exc))
        return
    command = [sys.executable, "-m", "osirix_tasks", "serve", "--port", str(port)]
    if database:
        command += ["--database", database]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if port_is_listening(port) and any(h.pid == process.pid for h in live_hosts()):
            click.echo(f"Started an embedded OsiriX (pid {process.pid}) serving 127.0.0.1:{port}")
            return
        if process.poll() is not None:
            fail(f"the embedded OsiriX exited with code {process.returncode} - run "
                 f"'osirix-tasks serve --port {port}' to see why")
        time.sleep(0.1)
    fail(f"the embedded OsiriX (pid {process.pid}) did not start serving {port} within 60 s")


@servers.command("stop")
@click.argument("port", type=int)
def stop_server(port: int) -> None:
    """Stop serving PORT (the host exits when it serves nothing any more)."""
    host = _hosts_by_port().get(port)
    if host is None:
        if port_is_listening(port):
            holder = who_holds_port(port) or "another process"
            fail(f"port {port} is served by {holder}, not by an osirix-tasks host - stop it there")
        fail(f"port {port} is not being served")
    _stop_on(host, port)
    click.echo(f"Stopped 127.0.0.1:{port}")


def _send_to_host(command: dict[str, object]) -> None:
    hosts = live_hosts()
    if not hosts:
        fail("no embedded OsiriX is running - start one with 'osirix-tasks serve'")
    try:
        click.echo(send(hosts[0], command)["message"])
    except ControlError as exc:
        fail(str(exc))


@click.command("open")
@click.argument("series_uid")
@click.option("--frames", type=int, default=1, help="Open as a 4D viewer repeating the series this many times.")
def open_(series_uid: str, frames: int) -> None:
    """Open a 2D viewer on a series in the running embedded OsiriX (it becomes frontmost)."""
    _send_to_host({"op": "open", "series": series_uid, "frames": frames})


@click.command()
@click.option("--study", "studies", multiple=True, help="StudyInstanceUID to select (repeatable).")
@click.option("--series", "series", multiple=True,
              help="SeriesInstanceUID (or OsiriX's 'UID TE-x' identifier) to select (repeatable).")
@click.option("--roi", "roi_name", default=None, help="Select the frontmost viewer's ROIs with this name.")
@click.option("--clear", is_flag=True, help="Select nothing in the browser.")
def select(studies: tuple[str, ...], series: tuple[str, ...], roi_name: str | None, clear: bool) -> None:
    """Set the browser selection, or the selected ROIs, in the running embedded OsiriX."""
    if not (studies or series or clear or roi_name):
        fail("say what to select: --study UID, --series UID, --roi NAME, or --clear", code=2)
    if roi_name is not None:
        _send_to_host({"op": "select_rois", "name": roi_name})
    if studies or series or clear:
        _send_to_host({"op": "select", "studies": [] if clear else list(studies),
                       "series": [] if clear else list(series)})


@servers.command("restore")
def restore_servers() -> None:
    """Put server_configs.json.bak back in place of a damaged server_configs.json."""
    from .._atomic import restore_backup
    from ..server_configs import read_servers as parse

    path = config_path()
    backup = path.with_name(path.name + ".bak")
    try:
        parse(backup, check_liveness=False)
        broken = restore_backup(path)
    except (ServerConfigError, FileNotFoundError) as exc:
        fail(str(exc))
    click.echo(f"Restored {path} from {backup.name}; the replaced file is kept as {broken.name}")

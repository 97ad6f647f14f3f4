"""``osirix-tasks ui``: open the host's web page (starting a host first when none runs)."""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path

import click

from ..contract import Env
from ..errors import ControlError, OsirixTasksError
from ..host.control import ask, live_hosts
from ..host.control_protocol import Status
from ._common import AppState, pass_state


def _web_url() -> str | None:
    """The web UI address of the first running host that serves one."""
    for info in live_hosts():
        try:
            web = ask(info, Status(), timeout=10).data.get("web")
        except ControlError:
            continue
        if web and web.get("url"):
            return str(web["url"])
    return None


@click.command()
@click.option("--no-browser", is_flag=True, help="Only print the address.")
@click.option("--database", default=None, help="Database folder for a host started now.")
@pass_state
def ui(state: AppState, no_browser: bool, database: str | None) -> None:
    """Open the web UI of the running embedded OsiriX (starting one in the background if none runs)."""
    url = _web_url()
    if url is None and live_hosts():
        pids = ", ".join(str(h.pid) for h in live_hosts())
        raise OsirixTasksError(
            f"the running embedded OsiriX (pid {pids}) serves no web UI - stop it and start 'osirix-tasks serve' "
            "without --no-web"
        )
    if url is None:
        from ..host.spawn import spawn_host

        env = dict(os.environ)
        env[Env.REGISTRY] = str(state.registry_path)
        from ..host.config import HostConfig

        config = HostConfig(database=Path(database) if database else None)
        host = spawn_host(config, env=env, timeout=90)
        click.echo(f"Started an embedded OsiriX (pid {host.pid}); its output goes to {host.log_path}", err=True)
        url = _web_url()
        if url is None:
            raise OsirixTasksError(f"the embedded OsiriX (pid {host.pid}) serves no web UI - see {host.log_path}")
    click.echo(url)
    if not no_browser:
        webbrowser.open(url)

"""``osirix-tasks ui``: open the host's web page (starting a host first when none runs)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..contract import Env
from ..errors import ControlError, OsirixTasksError
from ..host.control import ask, live_hosts
from ..host.control_protocol import Status
from ._common import AppState, pass_state


def _web_url() -> tuple[str, int] | None:
    """The web UI address of the first running host that serves one, and that host's pid."""
    for info in live_hosts():
        try:
            web = ask(info, Status(), timeout=10).data.get("web")
        except ControlError:
            continue
        if web and web.get("url"):
            return str(web["url"]), info.pid
    return None


@click.command()
@click.option("--no-browser", is_flag=True, help="Only print the address.")
@click.option("--database", default=None, help="Database folder for a host started now.")
@pass_state
def ui(state: AppState, no_browser: bool, database: str | None) -> None:
    """Open the web UI of the running embedded OsiriX (starting one in the background if none runs).

    The browser is given a private file that leads to the page (its address carries the page's
    token, which must not appear on a command line every user can list).
    """
    found = _web_url()
    if found is None and live_hosts():
        pids = ", ".join(str(h.pid) for h in live_hosts())
        raise OsirixTasksError(
            f"the running embedded OsiriX (pid {pids}) serves no web UI - stop it and start 'osirix-tasks serve' "
            "without --no-web"
        )
    if found is None:
        from ..host.spawn import spawn_host

        env = dict(os.environ)
        env[Env.REGISTRY] = str(state.registry_path)
        from ..host.config import HostConfig

        config = HostConfig(database=Path(database) if database else None)
        host = spawn_host(config, env=env, timeout=90)
        click.echo(f"Started an embedded OsiriX (pid {host.pid}); its output goes to {host.log_path}", err=True)
        found = _web_url()
        if found is None:
            raise OsirixTasksError(f"the embedded OsiriX (pid {host.pid}) serves no web UI - see {host.log_path}")
    url, pid = found
    if no_browser:
        click.echo(url)
        return
    import webbrowser

    from ..web.opening import opening_file

    page = opening_file(url, pid, {h.pid for h in live_hosts()})
    click.echo(f"Opening {url.split('?', 1)[0]} (the address with its token is in {page})")
    webbrowser.open(page.as_uri())

"""``osirix-tasks menu``: the task menus of OsiriX's windows."""

from __future__ import annotations

import click

from ..catalog import menus
from ._common import AppState, emit_json, pass_state


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def menu(state: AppState, as_json: bool) -> None:
    """Show the "gRPC Tasks" menus as OsiriX's toolbars group them."""
    layout = menus(state.catalog())
    if as_json:
        emit_json(layout)
        return
    for window in layout:
        click.secho(f"{window['window']} - gRPC Tasks", bold=True)
        for submenu in window["menus"]:
            indent = "  "
            if submenu["submenu"]:
                click.echo(f"  {submenu['submenu']} ({submenu['type']} tasks)")
                indent = "    "
            if not submenu["entries"]:
                click.echo(f"{indent}(no {submenu['type']} tasks)")
            width = max((len(e["name"]) for e in submenu["entries"]), default=0)
            for entry in submenu["entries"]:
                flag = " [blocking]" if entry["blocking"] else ""
                click.echo(f"{indent}{entry['name']:<{width}}  from {entry['origin']}{flag}")

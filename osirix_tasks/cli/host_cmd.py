"""``osirix-tasks select`` and ``open``: what a user does in OsiriX's windows, on a running host."""

from __future__ import annotations

import click

from ..host.control import ask
from ..host.control_protocol import Open, Select, SelectRois
from ._common import fail, image_index, image_option
from ._hosts import SERVER_OPTION_HELP, pick_host


@click.command("open")
@click.argument("series_uid", required=False)
@click.option("--frames", type=int, default=1, help="Open as a 4D viewer repeating the series this many times.")
@image_option("the first")
@click.option(
    "--3d",
    "mode",
    type=click.Choice(["VR", "MIP"], case_sensitive=False),
    default=None,
    help="Open a 3D window (volume rendering or MIP) on the viewer just opened, or else on the frontmost one.",
)
@click.option("--server", default=None, help=SERVER_OPTION_HELP)
def open_(series_uid: str | None, frames: int, slice_: int | None, mode: str | None, server: str | None) -> None:
    """Open a 2D viewer on a series in the running embedded OsiriX (it becomes frontmost), and/or a 3D window.

    With only --3d, the 3D window opens on the frontmost viewer of any OsiriX (real or embedded).
    """
    if series_uid is None and mode is None:
        fail("say what to open: SERIES_UID (a 2D viewer), --3d VR|MIP (a 3D window), or both", code=2)
    if series_uid is not None:
        host, port = pick_host(server)
        click.echo(
            f"127.0.0.1:{port}: " + ask(host, Open(series=series_uid, frames=frames, slice=image_index(slice_))).message
        )
        server = str(port)
    if mode is not None:
        from ..client import Connection
        from ..client.viewer_tools import open_3d

        with Connection(server) as connection:
            vr = open_3d(connection, mode.upper())
            title = connection.call("VRControllerTitle", vr).title
            click.echo(f"{connection.address}: opened a {mode.upper()} window: {title}")


@click.command()
@click.option("--study", "studies", multiple=True, help="StudyInstanceUID to select (repeatable).")
@click.option(
    "--series",
    "series",
    multiple=True,
    help="SeriesInstanceUID (or OsiriX's 'UID TE-x' identifier) to select (repeatable).",
)
@click.option("--roi", "roi_name", default=None, help="Select the frontmost viewer's ROIs with this name.")
@click.option("--clear", is_flag=True, help="Select nothing in the browser.")
@click.option("--server", default=None, help=SERVER_OPTION_HELP)
def select(
    studies: tuple[str, ...], series: tuple[str, ...], roi_name: str | None, clear: bool, server: str | None
) -> None:
    """Set the browser selection, or the selected ROIs, in the running embedded OsiriX."""
    if not (studies or series or clear or roi_name):
        fail("say what to select: --study UID, --series UID, --roi NAME, or --clear", code=2)
    host, port = pick_host(server)
    if roi_name is not None:
        click.echo(f"127.0.0.1:{port}: " + ask(host, SelectRois(name=roi_name)).message)
    if studies or series or clear:
        request = Select(studies=[] if clear else list(studies), series=[] if clear else list(series))
        click.echo(f"127.0.0.1:{port}: " + ask(host, request).message)

"""``osirix-tasks roi list | add | select NAME | deselect | delete``: the frontmost viewer's ROIs."""

from __future__ import annotations

from pathlib import Path

import click

from ..vocabulary import ROI_KINDS
from ._common import emit_json, fail, image_index, image_option
from ._hosts import SERVER_OPTION_HELP, pick_host
from .db_cmd import SERVER_HELP


@click.group()
def roi() -> None:
    """List, draw, select and delete ROIs of the frontmost 2D viewer."""


@roi.command("list")
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(server: str | None, as_json: bool) -> None:
    """The frontmost viewer's ROIs (displayed frame), slice by slice; selected ones are marked *."""
    from ..client import Connection
    from ..client.roi_listing import list_rois

    with Connection(server) as connection:
        found = list_rois(connection)
    if as_json:
        emit_json([r.to_json() for r in found])
        return
    if not found:
        click.echo("No ROIs in the frontmost viewer.")
        return
    width = max(len(r.name) for r in found)
    for r in found:
        mark = "*" if r.selected else " "
        click.echo(
            f"{mark} {r.name:<{width}}  {r.type:<14}  image {r.slice + 1:<4} area {r.area_cm2:9.4f} cm2  "
            f"centroid ({r.centroid[0]:.1f}, {r.centroid[1]:.1f})  {r.uid}"
        )


@roi.command()
@click.option("--type", "kind", type=click.Choice(sorted(ROI_KINDS)), required=True, help="The ROI's shape.")
@click.option("--name", default="Unnamed", show_default=True, help="The ROI's name (ROIs are grouped by name).")
@click.option(
    "--box",
    type=(float, float, float, float),
    default=None,
    metavar="X Y W H",
    help="oval, rectangle, mask: bounding box in pixels (top-left column, row, width, height).",
)
@click.option(
    "--point",
    "points",
    type=(float, float),
    multiple=True,
    metavar="X Y",
    help="polygon (3 or more), point (1): a vertex, column X and row Y in pixels (repeatable).",
)
@click.option(
    "--npy",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="mask: a 2D 0/1 numpy array (.npy) placed with its top-left at --box's X Y (default 0 0).",
)
@image_option()
@click.option(
    "--color", type=(int, int, int), default=(0, 255, 0), show_default=True, metavar="R G B", help="0-255 each."
)
@click.option(
    "--select",
    "select_",
    is_flag=True,
    help="Select it afterwards, showing its image as OsiriX selects on the displayed image (embedded OsiriX only).",
)
@click.option("--server", default=None, help=SERVER_HELP)
def add(
    kind: str,
    name: str,
    box: tuple[float, float, float, float] | None,
    points: tuple[tuple[float, float], ...],
    npy: str | None,
    slice_: int | None,
    color: tuple[int, int, int],
    select_: bool,
    server: str | None,
) -> None:
    """Draw an ROI on the frontmost viewer's displayed slice."""
    from ..client import Connection
    from ..client.viewer_tools import add_roi

    mask = None
    if npy is not None:
        if kind != "mask":
            fail("--npy draws a mask: use it with --type mask", code=2)
        import numpy as np

        try:
            mask = np.load(Path(npy), allow_pickle=False)
        except (OSError, ValueError) as exc:
            fail(f"--npy {npy}: not a numpy array file ({exc}) - save one with numpy.save", code=2)
    with Connection(server) as connection:
        index = image_index(slice_)
        created = add_roi(connection, kind, name=name, box=box, points=points, mask=mask, slice=index, color=color)
        address = connection.address
    click.echo(f"{address}: added {kind} ROI {name!r} ({created.osirixrpc_uid})")
    if select_:
        _select(name, server, index)


def _select(name: str, server: str | None, index: int | None) -> None:
    """Ask the host to select ROIs named ``name`` on slice ``index`` (the protocol's, from 0) or as it finds."""
    from ..host.control import ask
    from ..host.control_protocol import SelectRois

    host, port = pick_host(server)
    click.echo(f"127.0.0.1:{port}: " + ask(host, SelectRois(name=name, slice=index)).message)


@roi.command()
@click.argument("name")
@image_option("the displayed one, else the first holding NAME; shown, then selected there")
@click.option("--server", default=None, help=SERVER_OPTION_HELP)
def select(name: str, slice_: int | None, server: str | None) -> None:
    """Select the frontmost viewer's ROIs named NAME, deselecting the others (embedded OsiriX: in OsiriX,
    click them). OsiriX selects on the displayed image: with --slice N, image N is shown first; without,
    the displayed image's ROIs of that name, or else the first image holding one is shown."""
    _select(name, server, image_index(slice_))


@roi.command()
@click.option("--server", default=None, help=SERVER_OPTION_HELP)
def deselect(server: str | None) -> None:
    """Deselect every ROI of the frontmost viewer (embedded OsiriX)."""
    from ..host.control import ask
    from ..host.control_protocol import DeselectRois

    host, port = pick_host(server)
    click.echo(f"127.0.0.1:{port}: " + ask(host, DeselectRois()).message)


@roi.command()
@click.argument("name", required=False)
@click.option("--all", "everything", is_flag=True, help="Every ROI of the viewer, in every frame.")
@click.option("--server", default=None, help=SERVER_HELP)
def delete(name: str | None, everything: bool, server: str | None) -> None:
    """Delete the ROIs named NAME (every frame), or --all, or else the selected ones (the Delete key)."""
    from ..client import Connection
    from ..client.viewer_tools import delete_rois

    if name is not None and everything:
        fail("give NAME or --all, not both", code=2)
    with Connection(server) as connection:
        count = delete_rois(connection, name, everything=everything)
        address = connection.address
    what = "ROI(s)" if everything else (f"ROI(s) named {name!r}" if name is not None else "selected ROI(s)")
    click.echo(f"{address}: deleted {count} {what}")


@roi.command("export")
@click.option("--format", "fmt", type=click.Choice(["sr", "seg", "csv", "json"]), required=True, help="What to write.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The file to write."
)
@click.option(
    "--series", "series_uid", default=None, help="A series' ROIs (opened for this); default: the frontmost viewer."
)
@click.option("--server", default=None, help=SERVER_HELP)
def export(fmt: str, output: Path, series_uid: str | None, server: str | None) -> None:
    """Write a viewer's ROIs as a DICOM SR (TID 1500), SEG, CSV (one row per ROI) or JSON file."""
    from ..client import Connection
    from ..client.roi_files import viewer_for, write_export

    with Connection(server) as connection:
        viewer, opened = viewer_for(connection, series_uid)
        try:
            written = write_export(connection, viewer, fmt, output)
        finally:
            if opened:
                connection.call("ViewerControllerCloseViewer", viewer)
    for path in written:
        click.echo(f"wrote {path}")


@roi.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--series", "series_uid", default=None, help="Into a viewer opened on this series; default: the frontmost."
)
@click.option("--server", default=None, help=SERVER_HELP)
def import_(files: tuple[Path, ...], series_uid: str | None, server: str | None) -> None:
    """Draw the ROIs of SR, SEG, CSV or JSON files in a viewer (an SR or SEG is also copied into the
    database). A file that is malformed or references none of the viewer's images is named and skipped."""
    from ..client import Connection
    from ..client.roi_files import import_file, viewer_for

    skipped = 0
    with Connection(server) as connection:
        viewer, _ = viewer_for(connection, series_uid)
        for path in files:
            report = import_file(connection, viewer, path)
            click.echo(f"{path}: drew {report.drawn} ROI(s)")
            for line in report.skipped:
                click.echo(f"  skipped: {line}", err=True)
            skipped += bool(report.skipped) and not report.drawn
    if skipped:
        fail(f"{skipped} file(s) gave no ROI", code=1)

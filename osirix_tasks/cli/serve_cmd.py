"""``osirix-tasks serve`` and ``osirix-tasks import``: the embedded OsiriX host and its database."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

import click

from .. import __version__
from .._support.paths import registry_path, user_data_dir
from ..client.server_configs import read_servers
from ..emulator.database.demo import demo_folder
from ..emulator.database.importer import ImportSummary, import_paths
from ..emulator.database.index import Database
from ..emulator.state import OsirixState
from ..errors import PortUnavailable, ServerConfigError
from ..host.process import Host, database_folder
from ..host.spawn import READY_LINE
from ._common import AppState, fail, warning

if TYPE_CHECKING:
    from ..web import WebServer

DEFAULT_PORT = 50051


def import_with_progress(db: Database, paths: list[str], copy: bool, label: str) -> ImportSummary:
    """Import with a progress bar on the terminal."""
    with click.progressbar(length=1, label=label, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            return import_paths(db, paths, copy=copy, progress=progress)
        except FileNotFoundError as exc:
            fail(str(exc))


def default_ports() -> list[int]:
    """Every server listed in server_configs.json, else 50051."""
    try:
        listed = [s.port for s in read_servers(check_liveness=False)]
    except ServerConfigError as exc:
        warning(f"{exc}\nserving on {DEFAULT_PORT} instead")
        return [DEFAULT_PORT]
    return listed or [DEFAULT_PORT]


@click.command()
@click.option(
    "--port",
    "ports",
    type=int,
    multiple=True,
    help="Port on 127.0.0.1 (repeatable). Default: every server in server_configs.json, else 50051.",
)
@click.option("--database", default=None, help="Database folder (default: the per-user data folder).")
@click.option("--empty", is_flag=True, help="Start with an empty database (clears the one in the folder).")
@click.option(
    "--demo",
    is_flag=True,
    help="Import the bundled demo data if the database is empty (the default "
    "when neither --empty nor --import is given).",
)
@click.option(
    "--import",
    "imports",
    multiple=True,
    type=click.Path(exists=True),
    help="Import this DICOM file or folder first (repeatable).",
)
@click.option(
    "--web-port",
    type=int,
    default=0,
    show_default="a free port",
    help="Port on 127.0.0.1 of the web UI (the page with the plugin's windows, the database and the viewers).",
)
@click.option("--no-web", is_flag=True, help="Do not serve the web UI.")
@click.option(
    "--web-stream-seconds",
    type=click.FloatRange(min=1),
    default=None,
    hidden=True,
    help="How long one of the page's event streams lasts before the page reconnects (tests).",
)
@click.option(
    "--registry",
    "web_registry",
    type=click.Path(dir_okay=False),
    default=None,
    help="tasks.toml the web UI shows, edits and runs (default: the top-level --registry choice).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every server event.")
@click.pass_context
def serve(
    ctx: click.Context,
    ports: tuple[int, ...],
    database: str | None,
    empty: bool,
    demo: bool,
    imports: tuple[str, ...],
    web_port: int,
    no_web: bool,
    web_stream_seconds: float | None,
    web_registry: str | None,
    verbose: bool,
) -> None:
    """Run an embedded OsiriX: the OsiriXgrpc protocol over a DICOM database, and its web UI."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not verbose:  # gRPC logs a traceback for every undecodable request; the client gets the error anyway
        logging.getLogger("grpc._common").setLevel(logging.CRITICAL)
    data_dir = user_data_dir()
    db = Database(database_folder(database, data_dir))
    if empty:
        db.clear()
    if imports:
        summary = import_with_progress(db, list(imports), True, "Importing")
        click.echo(f"Import: {summary}", err=True)
    if (demo or not (empty or imports)) and db.counts()[0] == 0:
        summary = import_paths(db, [str(demo_folder(data_dir))], copy=True)
        click.echo(f"Demo data: {summary}", err=True)
    host = Host(OsirixState(db))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for port in ports or default_ports():
        try:
            host.start_server(port)
        except PortUnavailable:
            host.shutdown()
            raise
    host.open_control_channel()
    web = None
    if not no_web:
        web = _start_web(ctx, host, web_port, web_registry, web_stream_seconds)
    studies, series, images = db.counts()
    click.echo(
        f"Embedded OsiriX (osirix-tasks {__version__}): database {db.folder} "
        f"({studies} studies, {series} series, {images} images)"
    )
    for port in host.ports():
        click.echo(f"Listening on 127.0.0.1:{port}")
    if web is not None:
        click.echo(f"Web UI: {web.url}")
    sys.stdout.flush()  # the ports before the ready line, also when stdout is a file
    click.echo(READY_LINE, err=True)
    while not stop.is_set() and not host.stopped.is_set():
        stop.wait(0.5)
    if web is not None:
        web.stop()
    host.shutdown()
    click.echo("Stopped.", err=True)


def _start_web(
    ctx: click.Context, host: Host, port: int, registry: str | None, stream_seconds: float | None
) -> WebServer:
    """Serve the web UI for ``host``; the registry is ``--registry`` of serve, else the top-level choice."""
    from ..web import start_web

    state = ctx.find_object(AppState)
    path = registry_path(registry) if registry else (state.registry_path if state else registry_path(None))
    try:
        web = start_web(host, path, port=port, stream_seconds=stream_seconds)
    except PortUnavailable:
        host.shutdown()
        raise
    host.set_web(web.info())
    return web


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--database", default=None, help="Database folder (default: the per-user data folder).")
@click.option("--link", is_flag=True, help="Index the files where they are instead of copying them in.")
def import_(paths: tuple[str, ...], database: str | None, link: bool) -> None:
    """Import DICOM files and folders into the database."""
    db = Database(database_folder(database, user_data_dir()))
    summary = import_with_progress(db, list(paths), not link, "Importing")
    db.close()
    click.echo(f"{summary}")
    if summary.imported + summary.already_present == 0:  # nothing usable: say why (the summary lists each file)
        fail("nothing was imported - the files above were skipped; give DICOM files, folders or a DICOMDIR")

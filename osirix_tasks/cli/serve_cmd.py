"""``osirix-tasks serve`` and ``osirix-tasks import``: the embedded OsiriX host and its database.

``serve`` turns its options into a :class:`~osirix_tasks.host.config.HostConfig` and hands it to
:func:`~osirix_tasks.host.assemble.run_host`; it prints what the host serves, then waits.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from .._support.text import plural
from ..contract import Env
from ..host.config import HostConfig, database_folder
from ..host.spawn import READY_LINE
from ._common import AppState, fail

if TYPE_CHECKING:
    from ..emulator.database.importer import ImportSummary
    from ..emulator.database.index import Database


def import_with_progress(db: Database, paths: list[str], copy: bool, label: str) -> ImportSummary:
    """Import with a progress bar on the terminal."""
    from ..emulator.database.importer import import_paths

    with click.progressbar(length=1, label=label, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            return import_paths(db, paths, copy=copy, progress=progress)
        except FileNotFoundError as exc:
            fail(str(exc))


def max_decode_option(function: Any) -> Any:
    """``--max-decode-mb``: the bound on one decode (:mod:`osirix_tasks.emulator.decode_limit`)."""
    return click.option(
        "--max-decode-mb",
        type=click.FloatRange(min=1),
        default=None,
        metavar="MB",
        help="MiB one pixel decode may allocate (default: $OSIRIX_TASKS_MAX_DECODE_MB, else 1024); files whose "
        "frames would take more are skipped at import, named.",
    )(function)


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
    "--no-save-rois",
    is_flag=True,
    help="Keep ROIs in memory only, as OsiriX with its 'save ROIs' preference off (default: kept with their study).",
)
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
    help="tasks.toml this host offers: its page shows, edits and runs it, status and 'tasks list' name it, and "
    "its DICOM node reads [dicom] and [[trigger]] there (default: the top-level --registry choice, as found where "
    "the host starts).",
)
@click.option(
    "--dicom-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Listen as a DICOM node on this port (0: a free one). Default: [dicom] port of tasks.toml; neither: no node.",
)
@click.option(
    "--dicom-aet", default=None, help="The DICOM node's AE title (default: [dicom] ae_title, else OSIRIX_TASKS)."
)
@click.option(
    "--dicom-address",
    default=None,
    help="Address the DICOM node listens on (default 127.0.0.1; any other needs [dicom] allowed_aets and "
    "allowed_addresses).",
)
@click.option(
    "--temporary",
    is_flag=True,
    help="On stopping, remove from server_configs.json the entries this host added (the user's stay).",
)
@max_decode_option
@click.option(
    "--allow-other-users",
    is_flag=True,
    envvar=Env.ALLOW_OTHER_USERS.value,
    help="Serve other users' processes on the gRPC ports too (Linux refuses them by default; macOS cannot tell). "
    "Also $OSIRIX_TASKS_ALLOW_OTHER_USERS=1.",
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
    no_save_rois: bool,
    web_stream_seconds: float | None,
    web_registry: str | None,
    dicom_port: int | None,
    dicom_aet: str | None,
    dicom_address: str | None,
    temporary: bool,
    max_decode_mb: float | None,
    allow_other_users: bool,
    verbose: bool,
) -> None:
    """Run an embedded OsiriX: the OsiriXgrpc protocol over a DICOM database, and its web UI."""
    from ..host.assemble import StopSignals, run_host, wait_until_stopped
    from ..web.server import serve_page

    state = ctx.find_object(AppState)
    config = HostConfig(
        ports=ports,
        database=Path(database) if database else None,
        empty=empty,
        demo=demo,
        imports=imports,
        web=not no_web,
        web_port=web_port,
        web_stream_seconds=web_stream_seconds,
        registry=Path(web_registry) if web_registry else (state.registry_path if state else None),
        save_rois=not no_save_rois,
        dicom_port=dicom_port,
        dicom_aet=dicom_aet,
        dicom_address=dicom_address,
        temporary=temporary,
        max_decode_mb=max_decode_mb,
        allow_other_users=allow_other_users,
        verbose=verbose,
    )
    signals = StopSignals()  # before the host starts: a SIGTERM while it loads stops it cleanly
    host = run_host(
        config, importer=import_with_progress, report=lambda line: click.echo(line, err=True), serve_page=serve_page
    )
    studies, series, images = host.state.db.counts()
    click.echo(
        f"Embedded OsiriX (osirix-tasks {__version__}): database {host.state.db.folder} "
        f"({plural(studies, 'study', 'studies')}, {series} series, {plural(images, 'image')})"
    )
    for port in host.ports():
        click.echo(f"Listening on 127.0.0.1:{port}")
    click.echo(f"Registry: {host.registry}")
    if host.web is not None:
        click.echo(f"Web UI: {host.web['url']}")
    if host.dicom is not None:
        node = host.dicom.settings
        click.echo(f"DICOM node {node.ae_title} listening on {node.address}:{host.dicom.port}")
    sys.stdout.flush()  # the ports before the ready line, also when stdout is a file
    click.echo(READY_LINE, err=True)
    wait_until_stopped(host, signals)
    click.echo("Stopped.", err=True)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--database", default=None, help="Database folder (default: the per-user data folder).")
@click.option("--link", is_flag=True, help="Index the files where they are instead of copying them in.")
@max_decode_option
def import_(paths: tuple[str, ...], database: str | None, link: bool, max_decode_mb: float | None) -> None:
    """Import DICOM files and folders into the database."""
    from ..emulator.database.index import Database
    from ..emulator.decode_limit import set_max_decode_bytes

    set_max_decode_bytes(int(max_decode_mb * 2**20) if max_decode_mb is not None else None)
    db = Database(database_folder(database))
    summary = import_with_progress(db, list(paths), not link, "Importing")
    db.close()
    click.echo(f"{summary}")
    if summary.stopped:
        fail(f"import stopped: {summary.stopped}")
    if summary.imported + summary.already_present == 0:  # nothing usable: say why (the summary lists each file)
        fail("nothing was imported - the files above were skipped; give DICOM files, folders or a DICOMDIR")

"""``osirix-tasks demo``: the project's main job in one command on a fresh machine.

It starts the embedded OsiriX with the demo data (or uses the one running), does what a user
would do in OsiriX - select the demo study, open it in a 2D viewer, draw an ROI and select it,
open a 3D window - then runs one builtin task of each type through the real runner and says what
each did, how long it took and where its output is kept.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from types import FrameType

import click

from .._support.paths import user_data_dir
from ..catalog import Catalog
from ..client import Connection
from ..client.server_configs import free_port
from ..client.viewer_tools import add_roi, frontmost_viewer, open_3d
from ..client.windows import set_display
from ..emulator.database.demo import SERIES_UID, SLICES, STUDY_UID, demo_folder
from ..errors import OsirixTasksError
from ..host.config import HostConfig
from ..host.control import HostInfo, ask, live_hosts, send
from ..host.control_protocol import Import, Open, Select, SelectRois
from ..host.spawn import spawn_host
from ..model import TaskType
from ..run.start import Here, TaskRequest, start
from ..run.store import RunStore
from ._common import AppState, pass_state
from .run_cmd import echo_output


@contextlib.contextmanager
def _host(keep: bool) -> Iterator[tuple[int, HostInfo]]:
    for info in live_hosts():
        ports = list(info.ports)
        if ports:
            click.echo(f"Using the embedded OsiriX already running (pid {info.pid}) on 127.0.0.1:{ports[0]}")
            yield ports[0], info
            return
    port = free_port()
    # Its random port leaves with it; the demo's ROIs stay in memory (a show, not the user's work: kept,
    # each demo would add its three ROIs to the user's database again).
    host = spawn_host(HostConfig(demo=True, ports=(port,), temporary=True, save_rois=False))
    try:  # from here on, however the demo ends (SIGTERM, Ctrl-C, an error), the host is stopped
        if host.info is None:
            raise OsirixTasksError(f"the embedded OsiriX (pid {host.pid}) did not publish its control channel")
        click.echo(f"Started an embedded OsiriX with the demo data (pid {host.pid}) on 127.0.0.1:{port}")
        yield port, host.info
    finally:
        if keep:
            click.echo(f"Left it running: stop it with 'osirix-tasks servers stop {port}'")
        else:
            host.stop()


def _prepare(connection: Connection, host: HostInfo) -> None:
    """What a user does in OsiriX before running tasks of each type (importing the demo series first
    when the running host's database does not have it)."""
    if not send(host, Select(studies=[STUDY_UID])).ok:
        folder = demo_folder(user_data_dir())
        click.echo(f"The running embedded OsiriX does not have the demo study: importing it from {folder}")
        ask(host, Import(paths=[str(folder)], copy_files=True))
        ask(host, Select(studies=[STUDY_UID]))
    ask(host, Open(series=SERIES_UID))
    viewer = frontmost_viewer(connection)
    middle = SLICES // 2
    set_display(connection, viewer.osirixrpc_uid, idx=middle)
    for index in (middle - 1, middle, middle + 1):  # the bright sphere, on three slices: an ROI volume too
        add_roi(
            connection, "oval", name="demo lesion", box=(26, 50, 28, 28), slice=index, color=(255, 64, 0), viewer=viewer
        )
    ask(host, SelectRois(name="demo lesion"))
    open_3d(connection, "VR", viewer)
    click.echo(
        "Selected the demo study, opened it in a 2D viewer, drew and selected an ROI 'demo lesion' on three "
        "slices, opened a 3D window."
    )


def _builtin(catalog: Catalog, kind: TaskType) -> str:
    for entry in catalog.of_type(kind):
        if entry.origin == "builtin":
            return entry.spec.name
    raise OsirixTasksError(f"no builtin {kind.value} task (is the builtin plugin disabled in tasks.toml?)")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@click.command()
@click.option("--keep", is_flag=True, help="Leave the embedded OsiriX running afterwards.")
@pass_state
def demo(state: AppState, keep: bool) -> None:
    """Start the embedded OsiriX with demo data and run one builtin task of each type on it."""
    catalog = state.catalog(warn=False)
    store = RunStore.default()
    results = []
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # the host started here is stopped on the way out
    with _host(keep) as (port, host), Connection(port) as connection:
        _prepare(connection, host)
        for kind in (TaskType.DATABASE, TaskType.IMAGE, TaskType.ROI, TaskType.VR_CONTROLLER):
            name = _builtin(catalog, kind)
            click.secho(f"\n== {kind.value} task '{name}' ==", bold=True)
            task = TaskRequest(name=name, registry=state.registry_path, type=kind.value, address=f"127.0.0.1:{port}")
            started = time.perf_counter()
            record = start(task, None, Here(store, catalog), follow=echo_output)
            results.append((kind.value, record, time.perf_counter() - started))
    click.secho("\nSummary", bold=True)
    for kind_name, record, seconds in results:
        colour = "green" if record.status == "succeeded" else "red"
        click.echo(
            f"  {kind_name:<12} {record.task_name:<18} "
            + click.style(f"{record.status:<10}", fg=colour)
            + f" {seconds:6.2f} s   run {record.id}"
        )
    click.echo(f"Output of every run is kept in {store.path}: 'osirix-tasks runs', 'osirix-tasks console RUN'.")
    if any(r.status != "succeeded" for _, r, _ in results):
        sys.exit(1)

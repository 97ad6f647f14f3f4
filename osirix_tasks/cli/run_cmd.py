"""``osirix-tasks run`` and ``cancel``: start a registered task for real, or stop one.

Both go through the one run service (:func:`osirix_tasks.run.start.start`). When a host of ours
serves the OsiriX port the task will talk to, the host starts and supervises the run (everything is
imported there already; decorated tasks start on a warm launcher) and its output is streamed back
here; Ctrl-C cancels it there. Otherwise (a real OsiriX, or no port) this process supervises the run
itself. Either way the run is recorded in the same store, the same way.

Imports are kept to what each path needs: the host path does not load the catalog or the plugins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..contract import INHERITED, Target, exit_code_of
from ..errors import NoServer
from ._common import AppState, pass_state, warning
from ._terminal import TerminalFilter

if TYPE_CHECKING:
    from ..run.record import RunRecord


#: Task output on its way to this terminal: control sequences removed unless ``--raw`` (see ._terminal).
_TERMINAL: TerminalFilter | None = TerminalFilter()

RAW_HELP = "Show the task's output exactly as written: its escape sequences act on this terminal."


def show_raw(raw: bool) -> None:
    """``--raw``: from now on, output reaches the terminal as the task wrote it."""
    global _TERMINAL
    _TERMINAL = None if raw else TerminalFilter()


def echo_output(stream: int, text: str) -> None:
    """Show a run's output live: stdout as is, stderr in red, the runner's lines dimmed; control
    sequences (window title, hyperlinks, cursor moves) removed unless ``--raw`` (colours are kept).

    Once stdout is closed (``osirix-tasks run ... | head``) output goes nowhere, quietly: the run
    goes on and is kept in the store.
    """
    from ..run.streams import STDERR, SYSTEM

    if _TERMINAL is not None:
        text = _TERMINAL.clean(stream, text)
    try:
        if stream == SYSTEM:
            click.echo(click.style(text, dim=True), nl=False, err=True)
        elif stream == STDERR:
            click.echo(click.style(text, fg="red"), nl=False, err=True)
        else:
            click.echo(text, nl=False)
            sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _caller_environ() -> dict[str, str]:
    return {k: os.environ[k] for k in ("HOME", "PWD", *INHERITED) if k in os.environ}


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--type", "kind", default=None, help="The task's type, if the name is ambiguous.")
@click.option(
    "--server",
    default=None,
    help="OsiriX server: PORT or 127.0.0.1:PORT (default: $OSIRIX_TASKS_SERVER, else the last active server "
    "of server_configs.json, as pyosirix chooses).",
)
@click.option("--background", is_flag=True, help="Return the run id at once; the run goes on without this command.")
@click.option("--timeout", type=float, default=None, help="Stop the run after this many seconds.")
@click.option("--study", default=None, help="Run on this study (StudyInstanceUID) instead of the browser selection.")
@click.option(
    "--series",
    default=None,
    help="Run on this series (SeriesInstanceUID as OsiriX keeps it) instead of the frontmost viewer: Image, ROI "
    "and 3D tasks get a viewer of it opened for the run.",
)
@click.option("--roi", "rois", multiple=True, help="ROI tasks on --series: the names of the ROIs (default: all).")
@click.option("--raw", is_flag=True, help=RAW_HELP)
@pass_state
def run(
    state: AppState,
    name: str,
    args: tuple[str, ...],
    kind: str | None,
    server: str | None,
    background: bool,
    timeout: float | None,
    study: str | None,
    series: str | None,
    rois: tuple[str, ...],
    raw: bool,
) -> None:
    """Run the task NAME (arguments after -- go to the task)."""
    from .._support.paths import run_store_path
    from ..client.discovery import server_address
    from ..run.start import TaskRequest, start

    show_raw(raw)

    try:
        address: str | None = server_address(server)
    except NoServer as exc:
        warning(f"{exc}; starting the task without one")
        address = None
    task = TaskRequest(
        name=name,
        registry=state.registry_path,
        type=kind,
        args=args,
        address=address,
        timeout=timeout,
        environ=_caller_environ(),
    )
    store_path = run_store_path()
    where = _where(state, address, store_path)
    target = Target(study=study, series=series, rois=rois) if (study or series) else None
    record = start(task, target, where, follow=False if background else echo_output)
    if background:
        click.echo(record.id)
        return
    _finish(record, store_path)


def _where(state: AppState, address: str | None, store_path: Path) -> Any:
    """A host of ours when it serves ``address`` (it supervises the run), else this process."""
    from ..client.discovery import parse_address
    from ..host.control import host_serving

    host = host_serving(parse_address(address)[1]) if address else None
    if host is not None:
        from ..host.remote_runs import OnHost

        return OnHost(host, store_path)
    from ..run.start import Here
    from ..run.store import RunStore

    return Here(RunStore(store_path), state.catalog(warn=False))


def _finish(record: RunRecord, store_path: Path) -> None:
    summary = f"run {record.id}: {record.status}"
    if record.duration is not None:
        summary += f" in {record.duration:.2f} s"
    click.echo(
        click.style(summary + f" - output kept in {store_path} ('osirix-tasks console {record.id}')", dim=True),
        err=True,
    )
    if record.output_lost:
        warning(f"run {record.id}: {record.message} - free some disk space; the task itself {record.status}")
    sys.exit(
        exit_code_of(
            exit_code=record.exit_code, signal=record.signal, timed_out=record.timed_out, cancelled=record.cancelled
        )
    )


@click.command()
@click.argument("run_id")
@click.option("--grace", type=float, default=5.0, help="Seconds between SIGTERM and SIGKILL.")
def cancel(run_id: str, grace: float) -> None:
    """Stop a run and everything it started (SIGTERM, then SIGKILL after the grace period)."""
    from ..run.runner import cancel_run
    from ..run.store import RunStore

    record = cancel_run(RunStore.default(), run_id, grace=grace)
    click.echo(f"run {record.id}: {record.status}")

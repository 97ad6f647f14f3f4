"""``osirix-tasks run`` and ``cancel``: start a registered task for real, or stop one.

When a host of ours serves the OsiriX server the task will talk to, the host starts and supervises
the run (everything is imported there already; decorated tasks start on a warm launcher) and its
output is streamed back here; Ctrl-C cancels it there. Otherwise (real OsiriX, or no server) this
process supervises the run itself. Either way the run is recorded in the same store, the same way.

Imports are kept to what each path needs: the host path does not load the catalog or the plugins.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Any

import click

from ..contract import INHERITED, exit_code_of
from ..errors import NoServer, OsirixTasksError
from ._common import AppState, pass_state, warning
from ._terminal import TerminalFilter

#: The stream number a host uses for the frame that carries the run's id.
_RUN_ID_STREAM = -1


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
    raw: bool,
) -> None:
    """Run the task NAME (arguments after -- go to the task)."""
    show_raw(raw)
    from ..client.discovery import parse_address, server_address
    from ..host.control import host_serving

    try:
        address: str | None = server_address(server)
    except NoServer as exc:
        warning(f"{exc}; starting the task without one")
        address = None
    host = host_serving(parse_address(address)[1]) if address else None
    asked = _Asked(name, list(args), kind, address, background, timeout)
    if host is not None:
        _run_on_host(host, state, asked)
        return
    _run_here(state, asked)


def _finish(record: dict[str, Any], store_path: object) -> None:
    summary = f"run {record['id']}: {record['status']}"
    if record.get("duration") is not None:
        summary += f" in {record['duration']:.2f} s"
    click.echo(
        click.style(summary + f" - output kept in {store_path} ('osirix-tasks console {record['id']}')", dim=True),
        err=True,
    )
    if record.get("output_lost"):
        warning(f"run {record['id']}: {record['message']} - free some disk space; the task itself {record['status']}")
    sys.exit(
        exit_code_of(
            exit_code=record["exit_code"],
            signal=record["signal"],
            timed_out=bool(record["timed_out"]),
            cancelled=bool(record["cancelled"]),
        )
    )


@dataclass(frozen=True)
class _Asked:
    """What the command line asked for."""

    name: str
    args: list[str]
    kind: str | None
    address: str | None
    background: bool
    timeout: float | None


def _run_on_host(host: Any, state: AppState, asked: _Asked) -> None:
    from .._support.paths import run_store_path
    from ..host.control import ask, send, stream
    from ..host.control_protocol import CancelRun, OutputFrame, StartRun

    store = run_store_path()
    request = StartRun(
        name=asked.name,
        type=asked.kind,
        args=asked.args,
        server=asked.address,
        timeout=asked.timeout,
        background=asked.background,
        registry=str(state.registry_path),
        store=str(store),
        environ=_caller_environ(),
    )
    if asked.background:
        click.echo(ask(host, request).message)
        return
    run_id: list[str] = []

    def on_interrupt(signum: int, frame: Any) -> None:  # cancel it there; the stream tells how it ended
        if run_id:
            cancel = CancelRun(run_id=run_id[0], store=str(store))
            threading.Thread(target=send, args=(host, cancel), daemon=True).start()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        for frame in stream(host, request):
            if isinstance(frame, OutputFrame):
                if frame.stream == _RUN_ID_STREAM:
                    run_id.append(frame.text)
                else:
                    echo_output(frame.stream, frame.text)
                continue
            if not frame.ok:
                raise OsirixTasksError(frame.message)
            _finish(frame.data["record"], store)
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_here(state: AppState, asked: _Asked) -> None:
    from ..model import TaskType
    from ..run.runner import plan_run, start_run
    from ..run.store import RunStore

    try:
        task_type = TaskType.parse(asked.kind) if asked.kind else None
    except ValueError as exc:
        raise OsirixTasksError(str(exc)) from None
    catalog = state.catalog(warn=False)
    spec = catalog.resolve(asked.name, task_type).spec
    store = RunStore()
    plan = plan_run(
        spec,
        server=asked.address,
        args=asked.args,
        registry=state.registry_path,
        plugins=catalog.plugins,
        timeout=asked.timeout,
        background=asked.background,
    )
    record = start_run(plan, store, echo=None if asked.background else echo_output)
    if asked.background:
        click.echo(record.id)
        return
    _finish(record.to_json(), store.path)


@click.command()
@click.argument("run_id")
@click.option("--grace", type=float, default=5.0, help="Seconds between SIGTERM and SIGKILL.")
def cancel(run_id: str, grace: float) -> None:
    """Stop a run and everything it started (SIGTERM, then SIGKILL after the grace period)."""
    from ..run.runner import cancel_run
    from ..run.store import RunStore

    record = cancel_run(RunStore(), run_id, grace=grace)
    click.echo(f"run {record.id}: {record.status}")

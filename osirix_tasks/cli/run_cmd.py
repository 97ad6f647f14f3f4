"""``osirix-tasks run`` and ``cancel``: start a registered task for real, or stop one."""

from __future__ import annotations

import sys

import click

from ..client.discovery import server_address
from ..contract import exit_code_of
from ..errors import NoServer, OsirixTasksError
from ..model import TaskType
from ..run.runner import cancel_run, plan_run, start_run
from ..run.store import STDERR, SYSTEM, RunStore
from ._common import TASK_TYPE, AppState, pass_state, warning


def echo_output(stream: int, text: str) -> None:
    """Show a run's output live: stdout as is, stderr in red, the runner's lines dimmed."""
    if stream == SYSTEM:
        click.echo(click.style(text, dim=True), nl=False, err=True)
    elif stream == STDERR:
        click.echo(click.style(text, fg="red"), nl=False, err=True)
    else:
        click.echo(text, nl=False)
    sys.stdout.flush()


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--type", "kind", type=TASK_TYPE, default=None, help="The task's type, if the name is ambiguous.")
@click.option(
    "--server",
    default=None,
    help="OsiriX server port or host:port (default: $OSIRIX_TASKS_SERVER, else the first active server).",
)
@click.option("--background", is_flag=True, help="Return the run id at once; a detached supervisor captures it.")
@click.option("--timeout", type=float, default=None, help="Stop the run after this many seconds.")
@pass_state
def run(
    state: AppState,
    name: str,
    args: tuple[str, ...],
    kind: TaskType | None,
    server: str | None,
    background: bool,
    timeout: float | None,
) -> None:
    """Run the task NAME (arguments after -- go to the task)."""
    catalog = state.catalog(warn=False)
    found = catalog.find(name, kind)
    if not found:
        broken = [p for p in catalog.problems if f"task '{name}'" in p]
        if broken:
            raise OsirixTasksError(f"task '{name}' cannot run: " + "; ".join(broken))
        of_type = f" of type {kind.value}" if kind else ""
        raise OsirixTasksError(f"no task named {name!r}{of_type} - see 'osirix-tasks tasks list'")
    if len(found) > 1:
        kinds = ", ".join(e.spec.type.value for e in found)
        raise OsirixTasksError(f"{len(found)} tasks are named {name!r} ({kinds}) - add --type")
    spec = found[0].spec
    try:
        address: str | None = server_address(server)
    except NoServer as exc:
        warning(f"{exc}; starting the task without one")
        address = None
    store = RunStore()
    plan = plan_run(
        spec,
        server=address,
        args=list(args),
        registry=state.registry_path,
        plugins=catalog.plugins,
        timeout=timeout,
        background=background,
    )
    record = start_run(plan, store, echo=None if background else echo_output)
    if background:
        click.echo(record.id)
        return
    summary = f"run {record.id}: {record.status}"
    if record.duration is not None:
        summary += f" in {record.duration:.2f} s"
    click.echo(
        click.style(summary + f" - output kept in {store.path} ('osirix-tasks console {record.id}')", dim=True),
        err=True,
    )
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
    record = cancel_run(RunStore(), run_id, grace=grace)
    click.echo(f"run {record.id}: {record.status}")

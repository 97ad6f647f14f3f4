"""``osirix-tasks runs`` and ``console``: the task console with its history."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .._support.atomic import write_atomic
from ..errors import OsirixTasksError
from ..model import RunStatus
from ..run.store import STDERR, STREAM_NAMES, RunRecord, RunStore, pid_alive
from ._common import emit_json
from .run_cmd import echo_output

_COLOURS = {
    RunStatus.SUCCEEDED: "green",
    RunStatus.FAILED: "red",
    RunStatus.ERROR: "red",
    RunStatus.TIMED_OUT: "yellow",
    RunStatus.CANCELLED: "yellow",
    RunStatus.LOST: "magenta",
    RunStatus.RUNNING: "cyan",
    RunStatus.STARTING: "cyan",
}


@click.command()
@click.option("--limit", type=int, default=30, help="How many runs, most recent first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def runs(limit: int, as_json: bool) -> None:
    """The run history: status, exit code, duration."""
    store = RunStore()
    store.mark_lost()
    records = store.runs(limit)
    if as_json:
        emit_json([r.to_json() for r in records])
        return
    if not records:
        click.echo("No runs yet - start one with 'osirix-tasks run NAME'.")
    for record in records:
        exit_text = (
            "-"
            if record.exit_code is None and record.signal is None
            else f"signal {record.signal}"
            if record.signal
            else f"exit {record.exit_code}"
        )
        duration = f"{record.duration:.2f} s" if record.duration is not None else "..."
        status = click.style(f"{record.status:<10}", fg=_COLOURS.get(RunStatus(record.status)))
        click.echo(f"{record.id}  {status}  {exit_text:<10} {duration:>9}  {record.task_name} ({record.task_type})")


def _pick(store: RunStore, run_id: str | None) -> RunRecord:
    record = store.get(run_id) if run_id else store.latest()
    if record is None:
        raise OsirixTasksError(f"no run {run_id!r} - see 'osirix-tasks runs'" if run_id else "no runs yet")
    return record


@click.command()
@click.argument("run_id", required=False)
@click.option("--follow", "-f", is_flag=True, help="Keep showing output until the run ends.")
@click.option(
    "--save",
    "save_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the run's output to FILE (stderr lines marked).",
)
@click.option("--clear", is_flag=True, help="Forget every finished run (running runs are kept).")
@click.option("--json", "as_json", is_flag=True, help="Print the output chunks as JSON.")
def console(run_id: str | None, follow: bool, save_path: str | None, clear: bool, as_json: bool) -> None:
    """Show a run's output (the latest run by default): stdout, stderr in red."""
    store = RunStore()
    if clear:
        click.echo(f"Cleared {store.clear()} finished run(s).")
        return
    store.mark_lost()
    record = _pick(store, run_id)
    if as_json:
        emit_json(
            {
                "run": record.to_json(),
                "output": [
                    {"stream": STREAM_NAMES[c.stream], "at": c.at, "text": c.text} for c in store.output(record.id)
                ],
            }
        )
        return
    if save_path:
        text = "".join(
            c.text if c.stream != STDERR else "".join(f"[stderr] {line}" for line in c.text.splitlines(keepends=True))
            for c in store.output(record.id)
        )
        write_atomic(Path(save_path), text.encode("utf-8"), backup=False)
        click.echo(f"Saved the output of run {record.id} to {save_path}")
        return
    last = -1
    while True:
        for chunk in store.output(record.id, after_seq=last):
            echo_output(chunk.stream, chunk.text)
            last = chunk.seq
        current = store.get(record.id)
        if not follow or current is None or current.finished:
            break
        if not pid_alive(current.supervisor_pid):
            store.mark_lost()
        time.sleep(0.2)

"""``osirix-tasks runs`` and ``console``: the task console with its history."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import click

from ..errors import OsirixTasksError
from ..model import RunStatus
from ..run.store import STDERR, STREAM_NAMES, OutputChunk, RunRecord, RunStore, pid_alive
from ._common import emit_json
from .run_cmd import RAW_HELP, echo_output, show_raw

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
    from ..batch.records import BatchRecords

    store = RunStore.default()
    store.mark_lost()
    records = store.runs(limit)
    batches = BatchRecords(store)
    batches.mark_interrupted()
    items = {r.id: batches.item_of_run(r.id) for r in records}
    if as_json:  # runs, each item run naming its batch, then the batches (kind: batch)
        listed = [
            {**r.to_json(), "batch": (items[r.id] or (None, None))[0], "batch_item": (items[r.id] or (None, None))[1]}
            for r in records
        ]
        emit_json(listed + [b.to_json() for b in batches.batches(limit)])
        return
    if not records:
        click.echo("No runs yet - start one with 'osirix-tasks run NAME'.")
    for batch in batches.batches(5):
        click.echo(f"batch {batch.id}  {batch.status:<11} {batch.done}/{batch.total} items  {batch.task_name}")
    for record in records:
        _print_run(record, items[record.id])


def _print_run(record: RunRecord, item: tuple[str, int] | None) -> None:
    """One line of ``runs``: id, status, exit, duration, task, its batch item, output lost."""
    exit_text = (
        "-"
        if record.exit_code is None and record.signal is None
        else f"signal {record.signal}"
        if record.signal
        else f"exit {record.exit_code}"
    )
    duration = f"{record.duration:.2f} s" if record.duration is not None else "..."
    status = click.style(f"{record.status:<10}", fg=_COLOURS.get(RunStatus(record.status)))
    part = f"  [batch {item[0]} item {item[1]}]" if item else ""
    lost = click.style(f"  (output lost: {record.output_lost} bytes)", fg="red") if record.output_lost else ""
    click.echo(
        f"{record.id}  {status}  {exit_text:<10} {duration:>9}  {record.task_name} ({record.task_type}){part}{lost}"
    )


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
@click.option("--clear", is_flag=True, help="Forget every finished run (running runs are kept) and free their space.")
@click.option("--json", "as_json", is_flag=True, help="Print the output chunks as JSON.")
@click.option(
    "--max-output",
    "max_output",
    type=click.IntRange(min=1),
    default=None,
    metavar="MB",
    help="Keep at most MB megabytes of output per run from now on (the rest is dropped, and the run says so).",
)
@click.option("--raw", is_flag=True, help=RAW_HELP)
def console(
    run_id: str | None,
    follow: bool,
    save_path: str | None,
    clear: bool,
    as_json: bool,
    max_output: int | None,
    raw: bool,
) -> None:
    """Show a run's output (the latest run by default): stdout, stderr in red."""
    show_raw(raw)
    store = RunStore.default()
    if max_output is not None:
        store.set_max_output_bytes(max_output * 2**20)
        click.echo(f"Runs keep up to {max_output} MB of output from now on.")
        return
    if clear:
        before = store.disk_bytes()
        count = store.clear()
        click.echo(f"Cleared {count} finished run(s).")
        click.echo(f"The store went from {_mb(before)} to {_mb(store.disk_bytes())} on disk.")
        return
    store.mark_lost()
    record = _pick(store, run_id)
    if as_json:
        stream_json(record, store.output(record.id), sys.stdout)
        return
    if save_path:
        save_output(store.output(record.id), Path(save_path))
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


def _mb(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def stream_json(record: RunRecord, chunks: Iterable[OutputChunk], out: IO[str]) -> None:
    """Write ``{"run": ..., "output": [...]}`` as ``json.dumps(..., indent=2)`` would, one chunk
    at a time (a run's output is never held in memory whole)."""
    out.write('{\n  "run": ' + _nested(json.dumps(record.to_json(), indent=2), "  ") + ',\n  "output": [')
    empty = True
    for chunk in chunks:
        item = {"stream": STREAM_NAMES[chunk.stream], "at": chunk.at, "text": chunk.text}
        out.write(("\n" if empty else ",\n") + "    " + _nested(json.dumps(item, indent=2), "    "))
        empty = False
    out.write("]\n}\n" if empty else "\n  ]\n}\n")
    out.flush()


def _nested(text: str, indent: str) -> str:
    """Indent every line but the first (the JSON of a value nested at that depth)."""
    return text.replace("\n", "\n" + indent)


def save_output(chunks: Iterable[OutputChunk], path: Path) -> None:
    """Write the output to ``path`` atomically (a temporary file renamed over it), stderr lines
    marked ``[stderr]``, one chunk at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            line_start = True
            for chunk in chunks:
                if chunk.stream != STDERR:
                    handle.write(chunk.text)
                    continue
                for line in chunk.text.splitlines(keepends=True):
                    handle.write(f"[stderr] {line}" if line_start else line)
                    line_start = line.endswith(("\n", "\r"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise

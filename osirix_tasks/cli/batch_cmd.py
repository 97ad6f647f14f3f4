"""``osirix-tasks batch``: run a task over many studies or series, resume, results, cancel."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import OsirixTasksError
from ._common import TASK_TYPE, AppState, emit_json, pass_state

SUBCOMMANDS = ("resume", "results", "list", "show", "cancel")


class _BatchGroup(click.Group):
    """``batch TASK ...`` runs a batch; ``batch resume|results|list|show|cancel ...`` are subcommands."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "start", self.commands["start"], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(
            "osirix-tasks batch", "TASK [UID]... [OPTIONS] | resume ID | results [ID] | list | show [ID] | cancel [ID]"
        )


@click.group(cls=_BatchGroup)
def batch() -> None:
    """Run a task over many studies or series (a Dask cluster), with progress, resume and a results table.

    \b
    osirix-tasks batch TASK UID... | --from FILE | --where QUERY | --selection  [--dry-run]
    QUERY: FIELD OP VALUE terms joined by 'and', e.g. "modality=MR and series_description~T2 and
    study_date>=2020-01-01"; fields: modality, series_description, study_description, patient_id,
    patient_name, study_date, series_date, study_uid, series_uid, images; OP: = != ~ < <= > >=.
    """


def _resources(values: tuple[str, ...]) -> dict[str, float]:
    found = {}
    for value in values:
        name, sep, amount = value.partition("=")
        try:
            found[name.strip()] = float(amount) if sep else 1.0
        except ValueError:
            raise OsirixTasksError(f"--resources {value!r}: write NAME=AMOUNT, e.g. GPU=1") from None
        if not name.strip():
            raise OsirixTasksError(f"--resources {value!r}: the resource has no name - write NAME=AMOUNT, e.g. GPU=1")
    return found


def _progress_printer(quiet: bool) -> Any:
    state: dict[str, Any] = {"bar": None}

    def show(done: int, total: int, outcome: Any) -> None:
        if quiet:
            return
        bar = state["bar"]
        if bar is None:
            bar = state["bar"] = click.progressbar(length=total, label="items", show_pos=True, file=sys.stderr)
            bar.__enter__()
            bar.update(done - 1)
        bar.update(1)
        if outcome is not None and outcome.status != "succeeded":
            click.echo(
                f"\n  item {outcome.index}: {outcome.status} ({outcome.message or 'exit ' + str(outcome.exit_code)}) "
                f"- 'osirix-tasks console {outcome.run_id}'",
                err=True,
            )

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)

    show.close = close  # type: ignore[attr-defined]
    return show


def _records() -> Any:
    """The batch records of the user's run store."""
    from ..batch.records import BatchRecords
    from ..run.store import RunStore

    return BatchRecords(RunStore.default())


def _summary(records: Any, batch_id: str) -> int:
    record = records.get(batch_id)
    counts = ", ".join(f"{n} {state}" for state, n in sorted(record.counts.items()))
    click.echo(f"batch {record.id}: {record.status} ({counts})", err=True)
    click.echo(f"  results: 'osirix-tasks batch results {record.id}'", err=True)
    if record.status != "succeeded":
        click.echo(f"  run what did not succeed again: 'osirix-tasks batch resume {record.id}'", err=True)
    return 0 if record.status == "succeeded" else 1


def _drive(records: Any, work: Any, quiet: bool) -> None:
    show = _progress_printer(quiet)
    try:
        batch_id = work(show)
    except KeyboardInterrupt:
        show.close()
        click.echo("\nstopped: every item was cancelled", err=True)
        sys.exit(130)
    show.close()
    sys.exit(_summary(records, batch_id))


@batch.command("start", hidden=True)
@click.argument("task")
@click.argument("uids", nargs=-1)
@click.option("--type", "kind", type=TASK_TYPE, default=None, help="The task's type, if the name is ambiguous.")
@click.option(
    "--from",
    "uid_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A file of study or series uids, one per line.",
)
@click.option("--where", default=None, help="A query on indexed attributes (see 'batch --help').")
@click.option(
    "--selection", "browser_selection", is_flag=True, help="The database window's selection (the page's too)."
)
@click.option(
    "--roi", "rois", multiple=True, help="ROI tasks: the name of the ROIs each series' run works on (repeatable)."
)
@click.option("--server", default=None, help="OsiriX server: PORT or 127.0.0.1:PORT.")
@click.option(
    "--scheduler", default=None, help="tcp://HOST:PORT of an existing Dask scheduler (default: a local cluster)."
)
@click.option("--resources", multiple=True, help="Dask resources each item needs, NAME=AMOUNT (e.g. GPU=1).")
@click.option("--concurrency", type=click.IntRange(min=1), default=None, help="Items in flight at once.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Local cluster: worker processes (default: cores)."
)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Seconds per item.")
@click.option(
    "--retries", type=click.IntRange(min=0), default=0, help="Further attempts for an item that did not succeed."
)
@click.option("--arg", "task_args", multiple=True, help="An argument given to every item's task (repeatable).")
@click.option(
    "--ship-pixels",
    is_flag=True,
    help="Send each item's pixels with it (tasks declared pixels=True), even to workers that could reach OsiriX.",
)
@click.option("--dry-run", is_flag=True, help="List the items and stop.")
@click.option("--json", "as_json", is_flag=True, help="--dry-run: print the items as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@pass_state
def start(
    state: AppState,
    task: str,
    uids: tuple[str, ...],
    kind: Any,
    uid_file: Path | None,
    where: str | None,
    browser_selection: bool,
    rois: tuple[str, ...],
    server: str | None,
    scheduler: str | None,
    resources: tuple[str, ...],
    concurrency: int | None,
    workers: int | None,
    timeout: float | None,
    retries: int,
    task_args: tuple[str, ...],
    ship_pixels: bool,
    dry_run: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run TASK over the selected studies or series."""
    from ..batch.plan import BatchOptions
    from ..batch.selection import SelectionRequest
    from ..batch.service import BatchRequest, create_batch, prepare_batch, run_batch

    catalog = state.catalog(warn=False)
    options = BatchOptions(
        concurrency=concurrency,
        timeout=timeout,
        retries=retries,
        scheduler=scheduler or state.registry().settings.batch_scheduler,
        resources=_resources(resources),
        args=list(task_args),
        workers=workers,
        ship_pixels=ship_pixels,
    )
    request = BatchRequest(
        task, kind, SelectionRequest(list(uids), uid_file, where, browser_selection, list(rois)), options, server
    )
    if dry_run:
        spec, targets = prepare_batch(catalog, request)
        if as_json:
            emit_json([{"item": i, **ids} for i, (_, ids) in enumerate(targets)])
            return
        click.echo(f"{len(targets)} item(s) for '{spec.name}' ({spec.type.value}):")
        for i, (target, ids) in enumerate(targets):
            label = ids.get("series_description") or ids.get("study_description") or ""
            where = target.series or target.study
            click.echo(f"  {i:4d}  {where}  {ids.get('patient_id', '')}  {ids.get('modality', '')}  {label}")
        return
    records = _records()
    batch_id = create_batch(records, catalog, request)
    click.echo(f"batch {batch_id}: {records.get(batch_id).total} item(s) of '{task}'", err=True)
    _drive(records, lambda show: (run_batch(records, catalog, batch_id, show), batch_id)[1], quiet)


@batch.command()
@click.argument("batch_id")
@click.option("--server", default=None, help="Another OsiriX server for the rest (a restarted host's new port).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@pass_state
def resume(state: AppState, batch_id: str, server: str | None, quiet: bool) -> None:
    """Run again only the items of batch ID that did not succeed (also after a restart)."""
    from ..batch.service import resume_batch

    records = _records()
    record = records.get(batch_id)
    catalog = state.catalog(warn=False)
    _drive(records, lambda show: (resume_batch(records, catalog, record.id, show, server=server), record.id)[1], quiet)


@batch.command()
@click.argument("batch_id", required=False)
@click.option("--csv", "fmt", flag_value="csv", default=True, help="CSV (the default).")
@click.option("--json", "fmt", flag_value="json", help="JSON: a list of objects.")
@click.option("--parquet", "fmt", flag_value="parquet", help="Parquet (needs --output).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to FILE.")
def results(batch_id: str | None, fmt: str, output: Path | None) -> None:
    """The results table of batch ID (the latest by default): one row per item."""
    from ..batch.results import result_rows, write_table

    records = _records()
    records.mark_interrupted()
    record = records.get(batch_id)
    text = write_table(result_rows(records, record.id), fmt, output)
    if text is not None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {record.total} row(s) of batch {record.id} to {output}", err=True)


@batch.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """Batches, most recent first: task, state, items done."""
    records = _records()
    records.mark_interrupted()
    found = records.batches()
    if as_json:
        emit_json([b.to_json() for b in found])
        return
    if not found:
        click.echo("No batches yet - start one with 'osirix-tasks batch TASK --where ...'.")
    for b in found:
        click.echo(f"{b.id}  {b.status:<11}  {b.done:>4}/{b.total:<4}  {b.task_name} ({b.task_type})  {b.selection}")


@batch.command()
@click.argument("batch_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(batch_id: str | None, as_json: bool) -> None:
    """Batch ID (the latest by default) and the state of each item."""
    records = _records()
    records.mark_interrupted()
    record = records.get(batch_id)
    items = records.items(record.id)
    if as_json:
        emit_json({"batch": record.to_json(), "items": [i.to_json() for i in items]})
        return
    click.echo(
        f"batch {record.id}: {record.status}, {record.done}/{record.total} done - {record.task_name} "
        f"({record.task_type}) on {record.selection}"
    )
    for item in items:
        duration = f"{item.duration:.2f} s" if item.duration is not None else "-"
        where = item.target.series or item.target.study
        click.echo(
            f"  {item.index:4d}  {item.status:<10} {duration:>9}  x{item.attempts}  {where}  {item.run_id or ''}"
        )


@batch.command()
@click.argument("batch_id", required=False)
def cancel(batch_id: str | None) -> None:
    """Stop every item of batch ID (the latest by default), process groups included."""
    from ..batch.service import cancel_batch_record

    record = cancel_batch_record(_records(), batch_id)
    click.echo(f"batch {record.id}: cancel asked; its driver stops every item")

"""Starting, resuming and cancelling batches: what the CLI (and the page) call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog import Catalog
from ..client.connection import Connection
from ..contract import Target
from ..errors import BatchError
from ..model import TaskSpec, TaskType
from .driver import BatchDriver, Progress
from .plan import BatchOptions, check_task
from .records import BatchRecord, BatchRecords
from .selection import SelectionRequest, select

__all__ = ["BatchRequest", "prepare_batch", "create_batch", "run_batch", "resume_batch", "cancel_batch_record"]


@dataclass
class BatchRequest:
    """What a user asked for: a task, a selection, options, the OsiriX to act on."""

    name: str
    type: TaskType | None
    selection: SelectionRequest
    options: BatchOptions
    server: str | None


def prepare_batch(catalog: Catalog, request: BatchRequest) -> tuple[TaskSpec, list[tuple[Target, dict[str, Any]]]]:
    """The task and its targets (what ``--dry-run`` lists); errors name the bad input."""
    spec = catalog.resolve(request.name, request.type).spec
    with Connection(request.server) as connection:
        targets = select(connection, request.selection, spec.type)
    check_task(spec, [t for t, _ in targets])
    return spec, targets


def create_batch(records: BatchRecords, catalog: Catalog, request: BatchRequest) -> str:
    """Record a new batch (every item pending); returns its id."""
    spec, targets = prepare_batch(catalog, request)
    with Connection(request.server) as connection:
        server = connection.address
    return records.create(
        spec=spec.to_json(),
        registry=str(catalog.registry.path),
        server=server,
        options=request.options.to_json(),
        selection=request.selection.describe(),
        targets=targets,
    )


def run_batch(records: BatchRecords, catalog: Catalog, batch_id: str, progress: Progress | None = None) -> str:
    """Run the batch's items that have not succeeded (all of a new batch); returns its final status."""
    batch = records.get(batch_id)
    spec = catalog.resolve(batch.task_name, TaskType.parse(batch.task_type)).spec
    driver = BatchDriver(
        records=records,
        batch_id=batch.id,
        spec=spec,
        catalog=catalog,
        registry=Path(batch.registry),
        server=batch.server,
        options=BatchOptions.from_json(batch.options),
        progress=progress,
    )
    return driver.run()


def resume_batch(
    records: BatchRecords,
    catalog: Catalog,
    batch_id: str,
    progress: Progress | None = None,
    *,
    server: str | None = None,
) -> str:
    """Run again only what did not succeed, with the batch's own task, server (or ``server``: a restarted
    host's new port) and options, also after the host or the machine restarted; BatchError while its
    driver still runs or when nothing is left."""
    records.mark_interrupted()
    batch = records.get(batch_id)
    if not batch.finished:
        raise BatchError(
            f"batch {batch.id} is still running (driver pid {batch.driver_pid}) - wait for it, or stop it with "
            f"'osirix-tasks batch cancel {batch.id}'"
        )
    if not records.items(batch.id, unfinished_only=True):
        raise BatchError(f"every item of batch {batch.id} has succeeded - nothing to resume")
    if server is not None:
        with Connection(server) as connection:
            records.set_server(batch.id, connection.address)
    records.claim(batch.id)
    return run_batch(records, catalog, batch.id, progress)


def cancel_batch_record(records: BatchRecords, batch_id: str | None) -> BatchRecord:
    """Ask a running batch's driver to stop every item."""
    records.mark_interrupted()
    return records.request_cancel(records.get(batch_id).id)

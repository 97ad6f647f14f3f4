"""The Batch view: batches with their progress, each item's state, an item's output, cancel; and a batch
started from the database window's selection (:mod:`..batch_starts`).

Items are runs: an item's output is its run's (``/api/runs/RUN_ID``). A cancel is recorded in the run
store and the batch's driver (``osirix-tasks batch`` wherever it runs) stops every item within half a
second.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ...batch.records import BatchRecords
from ...batch.service import cancel_batch_record
from ...model import TaskType
from ..api import Call, api
from ..page import Page


def _records(page: Page) -> BatchRecords:
    records = BatchRecords(page.store())
    records.mark_interrupted()
    return records


def listing(page: Page, call: Call) -> dict[str, Any]:
    """Batches, most recent first (``?limit=``, 50 by default)."""
    limit = call.integer("limit", 50, low=1, high=10_000)
    return {"batches": [b.to_json() for b in _records(page).batches(limit=limit)]}


def detail(page: Page, call: Call) -> dict[str, Any]:
    """One batch and the state of each of its items."""
    records = _records(page)
    batch = records.get(call.path["batch_id"])
    return {"batch": batch.to_json(), "items": [item.to_json() for item in records.items(batch.id)]}


def cancel(page: Page, call: Call) -> dict[str, Any]:
    """Cancel a batch: every item's process group is stopped."""
    record = cancel_batch_record(_records(page), call.path["batch_id"])
    return {"batch": record.to_json(), "message": f"batch {record.id}: cancel asked; every item stops"}


def start(page: Page, call: Call) -> dict[str, Any]:
    """A batch of task ``name`` (``type``) over the selected ``studies`` and ``series`` (DICOM uids, as
    the database window's selection holds them); ``rois``: an ROI task's ROI names; ``workers``: local
    Dask workers (default: the cores)."""
    name, kind = str(call.body.get("name") or ""), call.parsed("type", TaskType.parse)
    workers = call.integer("workers", low=1, high=256) if call.value("workers") is not None else None
    uids = [*call.strings("studies"), *call.strings("series")]
    record = page.batch_starts.start(page, name, kind, uids, rois=call.strings("rois"), workers=workers)
    return {"batch": record.to_json(), "message": f"batch {record.id}: {record.total} item(s) of '{name}' started"}


routes = [
    Route("/api/batches/start", api(start), methods=["POST"]),
    Route("/api/batches", api(listing), methods=["GET"]),
    Route("/api/batches/{batch_id}", api(detail), methods=["GET"]),
    Route("/api/batches/{batch_id}/cancel", api(cancel), methods=["POST"]),
]

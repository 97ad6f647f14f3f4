"""The Batch view: batches with their progress, each item's state, an item's output, cancel.

Items are runs: an item's output is its run's (``/api/runs/RUN_ID``). A cancel is recorded in the run
store and the batch's driver (``osirix-tasks batch`` wherever it runs) stops every item within half a
second.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ...batch.records import BatchRecords
from ...batch.service import cancel_batch_record
from ..api import Call, api
from ..page import Page


def _records(page: Page) -> BatchRecords:
    records = BatchRecords(page.store())
    records.mark_interrupted()
    return records


def listing(page: Page, call: Call) -> dict[str, Any]:
    limit = call.integer("limit", 50, low=1, high=10_000)
    return {"batches": [b.to_json() for b in _records(page).batches(limit=limit)]}


def detail(page: Page, call: Call) -> dict[str, Any]:
    records = _records(page)
    batch = records.get(call.path["batch_id"])
    return {"batch": batch.to_json(), "items": [item.to_json() for item in records.items(batch.id)]}


def cancel(page: Page, call: Call) -> dict[str, Any]:
    record = cancel_batch_record(_records(page), call.path["batch_id"])
    return {"batch": record.to_json(), "message": f"batch {record.id}: cancel asked; every item stops"}


routes = [
    Route("/api/batches", api(listing), methods=["GET"]),
    Route("/api/batches/{batch_id}", api(detail), methods=["GET"]),
    Route("/api/batches/{batch_id}/cancel", api(cancel), methods=["POST"]),
]

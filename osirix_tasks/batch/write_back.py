"""A remote item's results written into OsiriX by the OsiriX machine when the item returns.

A task that worked on shipped pixels on a worker that cannot reach OsiriX leaves its
``save_segmentation`` and ``add_roi`` calls as writes (:mod:`osirix_tasks.client.deferred`). The
driver does them here, through its own connection, on a viewer of the item's series opened for them
and closed after (closing it keeps the ROIs with the series, as OsiriX does): the SEG goes into the
database, the ROIs onto the series. The item's output says what was written; an item whose writes
fail is failed (and retried while it may), with the reason.
"""

from __future__ import annotations

import time
from typing import Any

from osirixgrpc import viewercontroller_pb2

from ..client import targets
from ..client.connection import Connection
from ..contract import Target
from ..errors import OsirixTasksError
from ..model import RunStatus
from ..run.streams import SYSTEM
from .item import ItemOutcome

__all__ = ["write_back", "settle"]


def write_back(connection: Connection, target: Target, writes: list[Any]) -> list[str]:
    """Do ``writes`` in order on a viewer of the target's series (the target viewer itself when it
    names one); a line per write saying what was done."""
    if target.viewer:
        viewer = viewercontroller_pb2.ViewerController(osirixrpc_uid=target.viewer)
        return [write.apply(connection, viewer) for write in writes]
    if not target.series:
        raise OsirixTasksError(f"the item's target {target.study} is a study: its results need a series to go to")
    _, series = targets.find_series(connection, target.series, target.study)
    viewer = targets.open_series_viewer(connection, series)
    try:
        return [write.apply(connection, viewer) for write in writes]
    finally:
        targets.close_viewer(connection, viewer)  # its ROIs are kept with the series


def settle(outcome: ItemOutcome, connection: Connection, target: Target) -> None:
    """Write a succeeded item's results back into OsiriX, saying so in its output; when they cannot be
    written, the item has failed (its message says why)."""
    if outcome.status != RunStatus.SUCCEEDED.value or not outcome.writes:
        return
    writes, outcome.writes = outcome.writes, []
    try:
        lines = write_back(connection, target, writes)
    except (OsirixTasksError, ValueError) as exc:  # ValueError: highdicom refused the SEG
        outcome.status = RunStatus.FAILED.value
        outcome.message = f"its results could not be written back to OsiriX at {connection.address}: {exc}"
        lines = [outcome.message]
    outcome.output.extend((SYSTEM, time.time(), f"osirix-tasks: {line}\n") for line in lines)

"""A remote item's results written into OsiriX by the OsiriX machine when the item returns.

A task that worked on shipped pixels on a worker that cannot reach OsiriX leaves its
``save_segmentation`` and ``add_roi`` calls as writes (:mod:`osirix_tasks.client.deferred`). The
driver does them here, through its own connection, on a viewer of the item's series opened for them
and closed after (closing it keeps the ROIs with the series, as OsiriX does): the SEG goes into the
database, the ROIs onto the series. The item's output says what was written; an item whose writes
fail is failed (and retried while it may), with the reason.

The driver hands the writes to :class:`WriteBacks`: a few threads with a connection of their own, so
it keeps the cluster fed while OsiriX writes (most of a write-back is OsiriX's work and the wait for it).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from osirixgrpc import viewercontroller_pb2

from ..client import targets
from ..client.connection import Connection
from ..contract import Target
from ..errors import OsirixTasksError
from ..model import RunStatus
from ..run.streams import SYSTEM
from .item import ItemOutcome

__all__ = ["write_back", "settle", "WriteBacks", "WRITE_THREADS"]

#: Items written back at once.
WRITE_THREADS = 2


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
        _failed(outcome, f"its results could not be written back to OsiriX at {connection.address}: {exc}")
        return
    outcome.output.extend((SYSTEM, time.time(), f"osirix-tasks: {line}\n") for line in lines)


def _failed(outcome: ItemOutcome, message: str) -> None:
    outcome.status, outcome.message = RunStatus.FAILED.value, message
    outcome.output.append((SYSTEM, time.time(), f"osirix-tasks: {message}\n"))


class WriteBacks:
    """Items whose results are being written back, on :data:`WRITE_THREADS` threads sharing one
    connection to the OsiriX at ``server``. Each item is handed back with its outcome once settled."""

    def __init__(self, server: str | None):
        self.server = server
        self._pool: ThreadPoolExecutor | None = None
        self._connection: Connection | None = None
        self._lock = threading.Lock()
        self._pending: dict[Future[None], tuple[Any, ItemOutcome]] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def _osirix(self) -> Connection:
        with self._lock:
            if self._connection is None:
                self._connection = Connection(self.server)
            return self._connection

    def submit(self, outcome: ItemOutcome, target: Target, tag: Any) -> None:
        """Write ``outcome``'s results back on a thread; :meth:`finished` hands back (``tag``, outcome)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="osirix-write-back")
        future = self._pool.submit(lambda: settle(outcome, self._osirix(), target))
        self._pending[future] = (tag, outcome)

    def finished(self, seconds: float | None) -> list[tuple[Any, ItemOutcome]]:
        """The items settled within ``seconds`` (None: wait for all of them), each with its outcome."""
        if not self._pending:
            return []
        if seconds is None:
            done = set(self._pending)
            wait(done)
        else:
            done, _ = wait(self._pending, timeout=seconds, return_when=FIRST_COMPLETED)
        settled = []
        for future in done:
            tag, outcome = self._pending.pop(future)
            error = future.exception()
            if error is not None:  # OsiriX went away mid-write, a bug: the item did not end well
                _failed(outcome, f"its results could not be written back: {type(error).__name__}: {error}")
            settled.append((tag, outcome))
        return settled

    def close(self) -> None:
        """Wait for the writes in progress, then close the connection."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._connection is not None:
            self._connection.close()

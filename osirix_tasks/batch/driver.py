"""The batch driver: items out to Dask, outcomes back into the run store, until every item has ended.

Each attempt of an item is started by the one run service, ``start(task, target, OnCluster(...))``
(:mod:`.on_cluster`): planned as any run on that target, then sent to a worker.

A succeeded item that worked on shipped pixels brings back what it asked OsiriX to keep (a SEG,
ROIs): the driver writes it through its own connection, on a few threads, before recording the item
(:mod:`.write_back`); items being written back count in the window.

Items go out in a window (the concurrency: by default as many as the cluster has worker threads, so
the driver's memory stays flat whatever the batch's size) and each outcome is recorded as it comes
back. An item that failed, timed out or lost its worker is sent again while it has retries left; a
worker that dies mid-item is Dask's to handle (it runs the item elsewhere). Twice a second the driver
looks for a cancel (the page, ``batch cancel``) and for items that started (their worker).

Cancel and Ctrl-C stop every item: ``cancel_batch`` on every worker ends the items' process groups,
items not started are dropped, and what was running comes back recorded as cancelled.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import Catalog
from ..client.connection import Connection
from ..errors import BatchError, ContextUnavailable, OsirixError
from ..model import RunStatus, TaskSpec
from ..run.start import CatalogSource, TaskRequest, catalogs_of, start
from .cluster import open_client
from .item import ItemOutcome, ItemSpec
from .on_cluster import OnCluster
from .plan import BatchOptions, task_request
from .records import BatchRecords, BatchStatus, ItemRecord
from .worker import cancel_batch
from .write_back import WriteBacks

__all__ = ["BatchDriver", "Progress"]

#: Called after each item's attempt is recorded: (items ended, items in the batch, the outcome).
Progress = Callable[[int, int, ItemOutcome | None], None]
POLL_SECONDS = 0.5


@dataclass
class _InFlight:
    item: ItemRecord
    spec: ItemSpec
    future: Any


def _wait_some(futures: list[Any], seconds: float) -> list[Any]:
    """The futures done within ``seconds`` (at least one, unless the time ran out)."""
    from distributed import wait

    if not futures:
        return []
    try:
        done, _ = wait(futures, timeout=seconds, return_when="FIRST_COMPLETED")
    except TimeoutError:
        return []
    return list(done)


@dataclass
class BatchDriver:
    """Runs the unfinished items of one recorded batch on a Dask cluster."""

    records: BatchRecords
    batch_id: str
    spec: TaskSpec
    catalog: Catalog
    registry: Path
    server: str | None
    options: BatchOptions
    progress: Progress | None = None
    _flight: dict[str, _InFlight] = field(default_factory=dict)
    _queue: list[tuple[ItemRecord, int]] = field(default_factory=list)
    _done: int = 0
    _total: int = 0
    _cancelled: bool = False
    _task: TaskRequest | None = None
    #: Remote items' results being written back into OsiriX.
    _writes: WriteBacks | None = None

    def __post_init__(self) -> None:
        self._catalogs: CatalogSource = catalogs_of(self.catalog)

    def run(self) -> str:
        """Run every item that has not succeeded; returns the batch's final status."""
        items = self.records.items(self.batch_id, unfinished_only=True)
        self._total = len(self.records.items(self.batch_id))
        self._done = self._total - len(items)
        self._queue = [(item, item.attempts + 1) for item in items]
        status = BatchStatus.ERROR
        message: str | None = None
        try:
            with open_client(self.options.scheduler, workers=self.options.workers) as (client, local):
                self._check_reach(local)
                status = self._drive(client, local)
        except KeyboardInterrupt:
            status, message = BatchStatus.CANCELLED, "stopped by Ctrl-C"
            raise
        except BatchError as exc:
            message = str(exc)
            raise
        finally:
            self.records.finish(self.batch_id, status, message)
        return status

    def _check_reach(self, local: bool) -> None:
        if self.options.ship_pixels and not self.spec.pixels:
            raise BatchError(
                f"--ship-pixels: '{self.spec.name}' does not work on shipped pixels - declare it "
                "@osirix_task(..., pixels=True) and read context.volume, or leave out --ship-pixels"
            )
        if local or self.spec.pixels:
            return
        raise BatchError(
            f"'{self.spec.name}' talks to OsiriX at {self.server}, which the workers of {self.options.scheduler} "
            "cannot reach from other machines - declare it @osirix_task(..., pixels=True) to get the pixels shipped "
            "with each item, or run the batch on a local cluster (leave out --scheduler)"
        )

    def _window(self, client: Any) -> int:
        if self.options.concurrency:
            return self.options.concurrency
        threads = sum(client.nthreads().values()) if client.nthreads() else 1
        return 2 * max(1, threads)  # each worker has its next item at hand when one ends

    def _drive(self, client: Any, local: bool) -> str:
        window = self._window(client)
        ship = self.spec.pixels and (not local or self.options.ship_pixels)
        fetcher = Connection(self.server) if ship else None
        writes = self._writes = WriteBacks(self.server)
        try:
            self._loop(client, window, fetcher, writes)
        except KeyboardInterrupt:
            self._cancel(client)
            self._drain(client)
            raise
        finally:
            writes.close()
            if fetcher is not None:
                fetcher.close()
        return self._final_status()

    def _loop(self, client: Any, window: int, fetcher: Connection | None, writes: WriteBacks) -> None:
        """Until every item has ended (or a cancel has stopped them): send, poll, collect, record."""
        next_poll = 0.0
        while self._queue or self._flight or writes:
            self._fill(client, window, fetcher)
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + POLL_SECONDS
                self._poll(client)
            if self._cancelled and not self._flight and not writes:
                break
            for future in _wait_some([f.future for f in self._flight.values()], POLL_SECONDS):
                self._collect(future)
            for flight, outcome in writes.finished(0 if self._flight else POLL_SECONDS):
                self._record(flight, outcome)

    def _fill(self, client: Any, window: int, fetcher: Connection | None) -> None:
        """Send queued items until ``window`` are in flight (none once cancelled)."""
        while self._queue and len(self._flight) + len(self._writes or ()) < window and not self._cancelled:
            self._submit(client, *self._queue.pop(0), fetcher)

    def _submit(self, client: Any, item: ItemRecord, attempt: int, fetcher: Connection | None) -> None:
        """Start one attempt of ``item`` through the run service, on a worker of the cluster."""
        if self._task is None:
            self._task = task_request(self.spec, registry=self.registry, server=self.server, options=self.options)
        where = OnCluster(client, self._catalogs, self.batch_id, item.index, attempt, self.options, pixels=fetcher)
        try:
            start(self._task, item.target, where)
        except (OsirixError, ContextUnavailable) as exc:  # its pixels could not be fetched: this item only
            message = f"its pixels could not be read from OsiriX at {self.server}: {exc}"
            self._failed(item, attempt, RunStatus.ERROR.value, message)
            return
        assert where.item is not None
        self._flight[where.item.key] = _InFlight(item, where.item, where.future)

    def _failed(self, item: ItemRecord, attempt: int, status: str, message: str) -> None:
        """An attempt that ended without an outcome: recorded, then sent again while retries allow."""
        self.records.record_failure(self.batch_id, item.index, attempt, status, message)
        if not self._cancelled and attempt <= self.options.retries:
            self._queue.append((item, attempt + 1))
            return
        self._done += 1
        if self.progress:
            self.progress(self._done, self._total, None)

    def _poll(self, client: Any) -> None:
        """Look for a cancel, and record the items workers have started."""
        if not self._cancelled and self.records.cancel_requested(self.batch_id):
            self._cancel(client)
        with contextlib.suppress(Exception):  # the view of who runs what is a courtesy
            running = {}
            for worker, keys in client.processing().items():
                for key in keys:
                    flight = self._flight.get(str(key))
                    if flight is not None and flight.item.status != RunStatus.RUNNING.value:
                        running[flight.item.index] = worker
            self.records.mark_running(self.batch_id, running)

    def _collect(self, future: Any) -> None:
        flight = self._flight.pop(str(future.key))
        try:
            outcome: ItemOutcome = future.result()
        except Exception as exc:  # KilledWorker (its workers kept dying), the cluster went away ...
            self._lost(flight, f"{type(exc).__name__}: {exc}")
            return
        finally:
            future.release()
        if outcome.writes and self._writes is not None:  # a remote item's SEG and ROIs: written here, then recorded
            self._writes.submit(outcome, flight.item.target, flight)
            return
        self._record(flight, outcome)

    def _record(self, flight: _InFlight, outcome: ItemOutcome) -> None:
        """Record an attempt's outcome; send it again while retries allow, else count it done."""
        self.records.record(
            outcome,
            spec=self.spec.to_json(),
            command=flight.spec.command,
            cwd=flight.spec.cwd,
            env=flight.spec.env,
            server=self.server,
            timeout=flight.spec.timeout,
        )
        if outcome.status != RunStatus.SUCCEEDED.value and self._retry(flight):
            return
        self._done += 1
        if self.progress:
            self.progress(self._done, self._total, outcome)

    def _retry(self, flight: _InFlight) -> bool:
        if self._cancelled or flight.spec.attempt > self.options.retries:
            return False
        self._queue.append((flight.item, flight.spec.attempt + 1))
        return True

    def _lost(self, flight: _InFlight, why: str) -> None:
        message = f"attempt {flight.spec.attempt} did not come back from the cluster ({why})"
        self._failed(flight.item, flight.spec.attempt, RunStatus.LOST.value, message)

    def _cancel(self, client: Any) -> None:
        """Stop every item: the running ones' process groups on every worker, the queued ones dropped."""
        self._cancelled = True
        for item, attempt in self._queue:
            self.records.record_failure(
                self.batch_id, item.index, attempt - 1, RunStatus.CANCELLED.value, "cancelled before it started"
            )
        self._queue.clear()
        with contextlib.suppress(Exception):
            client.run(cancel_batch, self.batch_id)

    def _drain(self, client: Any, seconds: float | None = None) -> None:
        """After a cancel: wait for the running items to come back cancelled (then give up on them)."""
        deadline = time.monotonic() + (seconds if seconds is not None else self.options.grace + 10)
        while self._flight and time.monotonic() < deadline:
            for future in _wait_some([f.future for f in self._flight.values()], 0.5):
                self._collect(future)
        for flight, outcome in self._writes.finished(None) if self._writes is not None else []:
            self._record(flight, outcome)  # what came back before the cancel is written and recorded
        for flight in list(self._flight.values()):
            self.records.record_failure(
                self.batch_id, flight.item.index, flight.spec.attempt, RunStatus.CANCELLED.value, "cancelled"
            )
            with contextlib.suppress(Exception):
                client.cancel(flight.future)
        self._flight.clear()

    def _final_status(self) -> str:
        if self._cancelled:
            return BatchStatus.CANCELLED
        counts = self.records.get(self.batch_id).counts
        ok = counts.get(RunStatus.SUCCEEDED.value, 0)
        return BatchStatus.SUCCEEDED if ok == sum(counts.values()) else BatchStatus.FAILED

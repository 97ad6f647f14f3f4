"""Batches started from the database window's selection: checked and recorded here, driven by a process
of their own (:mod:`osirix_tasks.batch.drive`), shown in the Batch view.

The selection is the rows the user chose (study and series uids); a selected study stands for its
series when the task works on series. The batch is recorded before the page answers, so a bad
selection or task is answered at once, in the page's status line; the driver process then runs it on
the registry's Dask scheduler (``batch_scheduler``) or a local cluster. At most
:data:`MAX_DRIVERS` batches started here run at once.
"""

from __future__ import annotations

import os
import subprocess
import threading
from typing import TYPE_CHECKING

from ..batch.drive import command
from ..batch.plan import BatchOptions
from ..batch.records import BatchRecord, BatchRecords
from ..batch.selection import SelectionRequest
from ..batch.service import BatchRequest, create_batch
from ..errors import BatchError
from ..model import TaskType

if TYPE_CHECKING:
    from .page import Page

__all__ = ["BatchStarts", "MAX_DRIVERS"]

#: Batches started from the page that may run at once (each has a driver process and a Dask cluster).
MAX_DRIVERS = 4


class BatchStarts:
    """The driver processes of the batches started from the page."""

    def __init__(self) -> None:
        self._drivers: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()

    def running(self) -> int:
        """Driver processes still running."""
        with self._lock:
            self._drivers = [p for p in self._drivers if p.poll() is None]
            return len(self._drivers)

    def start(
        self,
        page: Page,
        name: str,
        kind: TaskType | None,
        uids: list[str],
        *,
        rois: list[str] | None = None,
        workers: int | None = None,
    ) -> BatchRecord:
        """Record a batch of task ``name`` over ``uids`` (studies and series) on the OsiriX the page shows
        and start its driver (an ROI task works on each series' ROIs named ``rois``, all when none); the
        batch as recorded. BatchError for an empty selection, a task that
        cannot take it, or too many batches running."""
        if not uids:
            raise BatchError("nothing is selected - select studies or series in the database window first")
        if self.running() >= MAX_DRIVERS:
            raise BatchError(
                f"{MAX_DRIVERS} batches started from this page are still running - wait for one to end, or cancel "
                "one in the Batch view"
            )
        catalog = page.catalog()
        options = BatchOptions(scheduler=catalog.registry.settings.batch_scheduler, workers=workers)
        selection = SelectionRequest(uids, rois=list(rois or ()), studies_as_series=True)
        records = BatchRecords(page.store())
        batch_id = create_batch(records, catalog, BatchRequest(name, kind, selection, options, page.address()))
        process = subprocess.Popen(
            command(page.store_path, page.registry, batch_id),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=os.path.dirname(os.path.abspath(page.registry)),
            start_new_session=True,  # its own group: the page's Cancel stops its items, not the host
        )
        with self._lock:
            self._drivers.append(process)
        threading.Thread(target=process.wait, name=f"batch-driver-{batch_id}", daemon=True).start()
        return records.get(batch_id)

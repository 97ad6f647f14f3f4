"""Where a batch item runs: a worker of the batch's Dask cluster, the batch runner's kind of ``where``
for :func:`osirix_tasks.run.start.start`.

The driver starts each attempt of an item with ``start(task, target, OnCluster(...))``: the run
service plans it (:func:`.plan.plan_batch_run`), this sends it to the cluster (with its pixels,
when the workers cannot reach OsiriX) and returns its record as started. A worker runs it in its
warm item process (:mod:`.worker`); the driver follows it there (the Dask future) and records it in
the run store, with its output, when it comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..client.connection import Connection
from ..client.series_pixels import series_pixels
from ..contract import Target
from ..errors import RunRefused
from ..model import TaskType
from ..run.record import RunRecord
from ..run.start import CatalogSource, Follow, TaskRequest
from .item import ItemSpec
from .plan import BatchOptions, item_spec, plan_batch_run, started_record
from .worker import run_item

__all__ = ["OnCluster"]


@dataclass
class OnCluster:
    """One attempt of one item of a batch, sent to the Dask cluster of ``client``.

    ``pixels``: the connection that fetches the target's pixels to ship with the item (workers
    that cannot reach OsiriX, or ``--ship-pixels``); None: the worker reads OsiriX itself.
    After :meth:`start`, ``item`` and ``future`` are what went to the cluster.
    """

    client: Any
    catalogs: CatalogSource
    batch_id: str
    index: int
    attempt: int
    options: BatchOptions
    pixels: Connection | None = None
    item: ItemSpec | None = None
    future: Any = None

    def start(self, task: TaskRequest, target: Target | None, follow: Follow) -> RunRecord:
        """Plan the item's run on ``target`` and send it to a worker; its record as started."""
        if follow:
            raise RunRefused("a batch item is followed by its batch's driver - start it with follow=False")
        if target is None:
            raise RunRefused(f"batch {self.batch_id} item {self.index} has no target - every batch item names one")
        plan = plan_batch_run(task, target, self.catalogs)
        item = item_spec(plan, batch_id=self.batch_id, index=self.index, attempt=self.attempt, grace=self.options.grace)
        if self.pixels is not None:  # an ROI task gets the series' ROIs named by the target with them
            item.pixels = series_pixels(self.pixels, target, rois=plan.spec.type == TaskType.ROI)
        resources = self.options.resources or None
        self.future = self.client.submit(run_item, item, key=item.key, pure=False, resources=resources, retries=0)
        self.item = item
        return started_record(plan, item)

"""``context.volume`` for a task declared ``pixels=True`` whose run can reach OsiriX: a run on this
machine (a menu click, ``osirix-tasks run``) or a batch item on a local worker.

The pixels come from the run's own 2D viewer when its context has one (an Image, ROI or 3D task),
else from the target series (a viewer opened for a moment), else from the one series selected in the
database window. A batch item on a worker that cannot reach OsiriX gets them shipped instead, the
same arrays and geometry (:mod:`osirix_tasks.client.series_pixels`).
"""

from __future__ import annotations

from typing import Any

from ..client.series_pixels import opened_series_pixels, roi_masks, series_pixels, viewer_pixels
from ..context import TaskContext
from ..errors import ContextUnavailable
from ..model import TaskType

__all__ = ["fill_pixels"]


def _pixels_of(context: TaskContext) -> dict[str, Any]:
    connection = context.connection
    if context.viewer is not None:
        return viewer_pixels(connection, context.viewer)
    target = context.target
    if target is not None and target.series:
        return series_pixels(connection, target)
    if len(context.series) == 1:
        return opened_series_pixels(connection, context.series[0])
    raise ContextUnavailable(
        f"'{context.task.name}' works on one series' pixels - open the series in a 2D viewer, select exactly one "
        "series in the database window, or give it one (osirix-tasks run --series SERIES_UID)"
    )


def fill_pixels(context: TaskContext) -> None:
    """Put the series' planes in ``context.volume`` and their geometry (``spacing``, ``origin``,
    ``orientation``, ``slice_locations``) in ``context.extras``, unless they were shipped already; an
    ROI task's ROIs as masks in ``extras["rois"]`` (:func:`~osirix_tasks.client.series_pixels.roi_masks`)."""
    if context.volume is not None:
        return
    pixels = _pixels_of(context)
    context.volume = pixels.pop("volume")
    context.extras.update(pixels)
    if context.task.type == TaskType.ROI and context.viewer is not None:  # its ROIs, as a remote item gets them
        context.extras["rois"] = roi_masks(context.connection, context.viewer, context.rois)

"""What a task asks OsiriX to keep while it cannot reach OsiriX: a batch item on a remote worker.

Such an item's context has its series' pixels shipped with it and no connection. Its
:meth:`~osirix_tasks.model.TaskContext.save_segmentation` and
:meth:`~osirix_tasks.model.TaskContext.add_roi` are checked here at once (the task learns of a bad
mask in its own run, as it would on the OsiriX machine) and kept in order as writes; they go back
with the item's outcome and the OsiriX machine does them through its own connection, on a viewer of
the item's series (:mod:`osirix_tasks.batch.write_back`). The SEG's uids are chosen here, so the
task can put them in its record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.uid import generate_uid

from ..errors import OsirixTasksError
from ..vocabulary import ROI_KINDS
from .connection import Connection
from .segmentation import SavedSegmentation, check_labels, label_names, save_segmentation
from .viewer_tools import add_roi, check_roi_shape

__all__ = ["Deferred", "SegmentationWrite", "RoiWrite", "MAX_DEFERRED_BYTES"]

#: Bytes of masks one item may leave for the OsiriX machine (they travel back through the cluster).
MAX_DEFERRED_BYTES = 1 << 30
#: ``save_segmentation`` options a remote item may give (``folder`` names a folder of the OsiriX machine).
SEGMENTATION_OPTIONS = ("movie_idx", "series_description", "algorithm", "draw")
#: ``add_roi`` keyword arguments (its ``viewer`` is the one the OsiriX machine opens).
ROI_OPTIONS = ("name", "box", "points", "mask", "slice", "frame", "color")


@dataclass
class SegmentationWrite:
    """A SEG to save in OsiriX's database (and to draw as ROIs), as ``save_segmentation`` takes it."""

    labels: np.ndarray
    names: dict[int, str]
    series_uid: str
    sop_instance_uid: str
    options: dict[str, Any] = field(default_factory=dict)

    def apply(self, connection: Connection, viewer: Any) -> str:
        """Save it on ``viewer``'s series; a line saying what was done."""
        saved = save_segmentation(
            connection,
            viewer,
            self.labels,
            self.names,
            series_uid=self.series_uid,
            sop_instance_uid=self.sop_instance_uid,
            **self.options,
        )
        labels = ", ".join(repr(name) for name in saved.labels.values())
        return f"SEG {saved.sop_instance_uid} ({labels}) saved in the database, {len(saved.rois)} ROI(s) drawn"


@dataclass
class RoiWrite:
    """An ROI to draw on the series (and keep with it): ``add_roi``'s kind and keyword arguments."""

    kind: str
    shape: dict[str, Any]

    def apply(self, connection: Connection, viewer: Any) -> str:
        """Draw it on ``viewer``; a line saying what was done."""
        add_roi(connection, self.kind, viewer=viewer, **self.shape)
        return f"ROI {self.shape['name']!r} ({self.kind}) added to the series"


@dataclass
class Deferred:
    """The writes of one item on a series of ``shape`` (planes, rows, columns), in the order asked."""

    shape: tuple[int, ...]
    writes: list[SegmentationWrite | RoiWrite] = field(default_factory=list)
    nbytes: int = 0

    def _keep(self, write: SegmentationWrite | RoiWrite, size: int) -> None:
        if self.nbytes + size > MAX_DEFERRED_BYTES:
            raise OsirixTasksError(
                f"this item's masks pass {MAX_DEFERRED_BYTES >> 20} MB, what a remote item may send back to "
                "OsiriX - save fewer or smaller segmentations per item"
            )
        self.nbytes += size
        self.writes.append(write)

    def save_segmentation(
        self, labels: Any, names: Sequence[str] | Mapping[int, str] | None = None, **options: Any
    ) -> SavedSegmentation:
        """Check ``labels`` against the shipped series and keep the SEG for the OsiriX machine; what it
        will be (its uids and labels; no path, no ROIs drawn yet)."""
        unknown = sorted(set(options) - set(SEGMENTATION_OPTIONS))
        if unknown:
            raise OsirixTasksError(
                f"save_segmentation on a remote worker takes {', '.join(SEGMENTATION_OPTIONS)}; not "
                f"{', '.join(unknown)} (the SEG is written by the OsiriX machine)"
            )
        planes, rows, columns = (self.shape + (0, 0, 0))[:3]
        array = check_labels(labels, planes, rows, columns)
        named = label_names(array, names)
        if not named:
            raise OsirixTasksError("the labels hold no label (every value is 0): nothing to save")
        compact = array.astype(np.uint8) if int(array.max()) < 256 else array
        write = SegmentationWrite(compact, named, str(generate_uid()), str(generate_uid()), dict(options))
        self._keep(write, compact.nbytes)
        return SavedSegmentation(None, write.sop_instance_uid, write.series_uid, dict(sorted(named.items())))

    def add_roi(self, kind: str, **shape: Any) -> None:
        """Check the ROI (``add_roi``'s ``name``, ``box``, ``points``, ``mask``, ``slice``, ``frame``,
        ``color``) and keep it for the OsiriX machine (drawn on the viewer opened there: ``slice`` None
        is the plane that viewer shows first)."""
        if kind not in ROI_KINDS:
            raise OsirixTasksError(f"ROI kind {kind!r} is not one of {', '.join(ROI_KINDS)}")
        unknown = sorted(set(shape) - set(ROI_OPTIONS))
        if unknown or "name" not in shape:
            raise OsirixTasksError(f"add_roi takes name (required), {', '.join(ROI_OPTIONS[1:])}; not {unknown}")
        check_roi_shape(kind, shape.get("box"), shape.get("points", ()), shape.get("mask"))
        plane = shape.get("slice")
        if plane is not None and not 0 <= plane < self.shape[0]:
            raise OsirixTasksError(f"slice {plane} is outside the series' {self.shape[0]} planes (0 is the first)")
        if shape.get("mask") is not None:
            shape["mask"] = np.asarray(shape["mask"], dtype=bool)
        self._keep(RoiWrite(kind, shape), 0 if shape.get("mask") is None else shape["mask"].nbytes)

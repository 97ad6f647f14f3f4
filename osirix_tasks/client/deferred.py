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
from ..vocabulary import DEFAULT_ROI_COLOR, ROI_KINDS
from .connection import Connection
from .segmentation import SavedSegmentation, check_labels, label_names, save_segmentation
from .viewer_tools import add_roi, check_roi_shape

__all__ = ["Deferred", "SegmentationWrite", "RoiWrite", "MAX_DEFERRED_BYTES"]

#: Bytes of masks one item may leave for the OsiriX machine (they travel back through the cluster).
MAX_DEFERRED_BYTES = 1 << 30
#: ``save_segmentation`` options a remote item may give (``folder`` names a folder of the OsiriX machine).
SEGMENTATION_OPTIONS = ("movie_idx", "series_description", "algorithm", "draw")


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
    """An ROI to draw on the series (and keep with it), as ``add_roi`` takes it."""

    kind: str
    name: str
    box: tuple[float, ...] | None = None
    points: list[tuple[float, float]] = field(default_factory=list)
    mask: np.ndarray | None = None
    slice: int | None = None
    frame: int | None = None
    color: tuple[int, int, int] = DEFAULT_ROI_COLOR

    def apply(self, connection: Connection, viewer: Any) -> str:
        """Draw it on ``viewer``; a line saying what was done."""
        add_roi(
            connection,
            self.kind,
            name=self.name,
            box=self.box,
            points=self.points,
            mask=self.mask,
            slice=self.slice,
            frame=self.frame,
            color=self.color,
            viewer=viewer,
        )
        return f"ROI {self.name!r} ({self.kind}) added to the series"


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

    def add_roi(
        self,
        kind: str,
        *,
        name: str,
        box: Sequence[float] | None = None,
        points: Sequence[Sequence[float]] = (),
        mask: Any = None,
        slice: int | None = None,
        frame: int | None = None,
        color: tuple[int, int, int] = DEFAULT_ROI_COLOR,
    ) -> None:
        """Check the ROI's shape and keep it for the OsiriX machine (drawn on the viewer opened there:
        ``slice`` None is the plane that viewer shows first)."""
        if kind not in ROI_KINDS:
            raise OsirixTasksError(f"ROI kind {kind!r} is not one of {', '.join(ROI_KINDS)}")
        check_roi_shape(kind, box, points, mask)
        if slice is not None and not 0 <= slice < self.shape[0]:
            raise OsirixTasksError(f"slice {slice} is outside the series' {self.shape[0]} planes (0 is the first)")
        array = None if mask is None else np.asarray(mask, dtype=bool)
        write = RoiWrite(
            kind,
            str(name),
            None if box is None else tuple(float(v) for v in box),
            [(float(x), float(y)) for x, y in points],
            array,
            slice,
            frame,
            (int(color[0]), int(color[1]), int(color[2])),
        )
        self._keep(write, 0 if array is None else array.nbytes)

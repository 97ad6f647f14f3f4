"""An ROI of a viewer as a record (what is stored) and back, with the measurements OsiriX shows."""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np
from pydicom.uid import generate_uid

from ...roidicom.records import AREA_TYPES, LINE_TYPES, RoiRecord
from ...vocabulary import RoiCode
from ..pix import Pix
from ..roi import Roi
from ..roi_pixels import values_map

__all__ = ["record_of", "roi_of", "measure", "tracking_uid"]

_TRACKING: weakref.WeakKeyDictionary[Roi, str] = weakref.WeakKeyDictionary()


def tracking_uid(roi: Roi) -> str:
    """The ROI's tracking UID: given when it is first stored, kept while it lives (and in its files)."""
    uid = _TRACKING.get(roi)
    if uid is None:
        uid = _TRACKING[roi] = str(generate_uid())
    return uid


def record_of(roi: Roi) -> RoiRecord:
    """A detached copy of the ROI's attributes (take it under the state lock)."""
    return RoiRecord(
        itype=roi.itype,
        name=roi.name,
        color=tuple(int(c) for c in roi.color),  # type: ignore[arg-type]
        opacity=float(roi.opacity),
        thickness=float(roi.thickness),
        points=np.array(roi.points, dtype=np.float64).reshape(-1, 2),
        rect=tuple(float(v) for v in roi.rect) if roi.rect is not None else None,  # type: ignore[arg-type]
        texture=roi.texture.copy() if roi.texture is not None else None,
        texture_origin=(int(roi.texture_origin[0]), int(roi.texture_origin[1])),
        spacing=(float(roi.spacing[0]), float(roi.spacing[1])),
        spline=bool(roi.spline),
        tracking_uid=tracking_uid(roi),
    )


def roi_of(record: RoiRecord, viewer: Any, frame: int, index: int) -> Roi:
    """A live ROI of ``viewer`` on plane (frame, index) from a record; it keeps the record's tracking UID."""
    roi = Roi(
        record.itype,
        record.name,
        viewer,
        frame,
        index,
        points=np.asarray(record.points, dtype=np.float64).reshape(-1, 2),
        rect=record.rect,
        texture=record.texture,
        texture_origin=record.texture_origin,
        spacing=record.spacing,
        spline=record.spline,
        color=record.color,
        opacity=record.opacity,
        thickness=record.thickness,
    )
    if record.tracking_uid:
        _TRACKING[roi] = record.tracking_uid
    return roi


def measure(record: RoiRecord, pix: Pix | None) -> None:
    """Fill ``record.measurements`` as OsiriX computes them: area (mm2) and the statistics of the pixels
    inside for area types and points, length (mm) for lines. A plane that cannot be decoded gives
    the geometry only."""
    detached = roi_of(record, None, 0, 0)
    found: dict[str, float] = {}
    if record.itype in AREA_TYPES:
        found["area_mm2"] = detached.area_cm2() * 100.0
    if record.itype in LINE_TYPES and len(record.points) >= 2:
        (x0, y0), (x1, y1) = record.points[0], record.points[1]
        found["length_mm"] = math.hypot((x1 - x0) * record.spacing[0], (y1 - y0) * record.spacing[1])
    if pix is not None and (record.itype in AREA_TYPES or record.itype == RoiCode.POINT):
        try:
            values = pix.greyscale()
        except Exception:
            values = None
        if values is not None:
            inside = values[values_map(detached, values.shape[0], values.shape[1])]
            if inside.size:
                found.update(
                    mean=float(inside.mean()),
                    std_dev=float(inside.std()),
                    min=float(inside.min()),
                    max=float(inside.max()),
                )
    record.measurements = {k: v for k, v in found.items() if math.isfinite(v)}

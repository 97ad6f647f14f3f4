"""An SR or SEG file as ROIs by image plane, whoever made it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

from ..vocabulary import RoiCode
from .masks import texture_from_mask
from .records import DEFAULT_COLOR, PlaneKey, RoiRecord
from .seg import SEG_SOP_CLASS, read_seg
from .sr import read_sr

__all__ = ["ForeignRois", "read_object", "MAX_OBJECT_BYTES"]

log = logging.getLogger(__name__)
#: An object larger than this is not read (reported instead).
MAX_OBJECT_BYTES = 512 * 1024 * 1024


@dataclass
class ForeignRois:
    """The ROIs one object holds, by plane."""

    sop_instance_uid: str
    planes: dict[PlaneKey, list[RoiRecord]] = field(default_factory=dict)


def _seg_rois(path: Path, ds: pydicom.Dataset) -> ForeignRois:
    content = read_seg(ds)
    found = ForeignRois(content.sop_instance_uid)
    for frame in content.frames:
        placed = texture_from_mask(frame.mask)
        if placed is None:
            continue
        texture, origin = placed
        record = RoiRecord(
            RoiCode.BRUSH,
            content.labels.get(frame.segment, f"Segment {frame.segment}"),
            color=content.colors.get(frame.segment, DEFAULT_COLOR),
            texture=texture,
            texture_origin=origin,
            spline=False,
        )
        found.planes.setdefault(frame.key, []).append(record)
    if content.unplaced:
        log.warning("%s: %d frame(s) name no source image; they are skipped", path, content.unplaced)
    return found


def read_object(path: Path) -> ForeignRois:
    """The ROIs of an SR or SEG file. Raises ValueError naming why it cannot be shown."""
    size = path.stat().st_size
    if size > MAX_OBJECT_BYTES:
        raise ValueError(f"{size} bytes, more than the {MAX_OBJECT_BYTES} we read")
    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:
        raise ValueError(f"not readable as DICOM ({type(exc).__name__}: {exc})") from None
    if str(ds.get("SOPClassUID", "")) == SEG_SOP_CLASS:
        return _seg_rois(path, ds)
    content = read_sr(ds)
    found = ForeignRois(content.sop_instance_uid, content.planes)
    if content.masks:
        found.planes = {k: [r for r in v if id(r) not in content.masks] for k, v in content.planes.items()}
    return found

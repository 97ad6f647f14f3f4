"""One image plane's stored ROIs: an SR of all of them (standard content plus our private block),
and, when it has brush ROIs, a SEG of their masks (one segment per brush ROI) that the SR
references. Written SEG first, then the SR in place of the old one (atomic rename), then the old
SEG goes: a process killed at any point leaves the previous or the new ROIs of the plane, whole."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from ...roidicom.masks import plane_mask, texture_from_mask
from ...roidicom.objects import MAX_OBJECT_BYTES
from ...roidicom.records import PlaneKey, RoiRecord
from ...roidicom.seg import SEG_SOP_CLASS, SegmentSpec, build_seg, read_seg
from ...roidicom.sr import PlaneRois, build_sr, read_sr
from ..database.index import Database
from .catalog import put_object, remove_objects
from .layout import SEG_SERIES, SR_SERIES, seg_path, series_uid, sr_path, write_atomic

__all__ = ["StoredPlane", "write_plane", "delete_plane", "read_plane", "MAX_OBJECT_BYTES"]

log = logging.getLogger(__name__)


@dataclass
class StoredPlane:
    """A plane's ROIs as read back, and the objects made elsewhere that were merged into them."""

    rois: list[RoiRecord]
    imported_from: list[str]


@dataclass(frozen=True)
class PlaneTarget:
    """Where a plane's ROIs go: the study (row id and UID), the folder, the source image's header."""

    db: Database
    study_id: int
    study_uid: str
    folder: Path
    header: Dataset


def _masks(records: list[RoiRecord], header: Dataset, key: PlaneKey) -> np.ndarray:
    rows, columns = int(header.Rows), int(header.Columns)
    frames = int(header.get("NumberOfFrames", 1) or 1)
    masks = np.zeros((frames, rows, columns, len(records)), dtype=bool)
    for number, record in enumerate(records):
        masks[min(key.frame, frames - 1), :, :, number] = plane_mask(record, rows, columns)
    return masks


def _old_segs(folder: Path, key: PlaneKey, keep: Path | None) -> list[Path]:
    prefix = sr_path(folder, key).name.split(".")[0]
    return [p for p in folder.glob(f"{prefix}-*.seg.dcm") if p != keep]


def write_plane(target: PlaneTarget, plane: PlaneRois) -> None:
    """Store the ROIs of one plane (replacing what was stored for it)."""
    key = plane.source.key
    brushes = [r for r in plane.rois if r.is_mask and r.texture is not None and r.texture.any()]
    seg = new_seg = None
    segments: dict[int, int] = {}
    if brushes:
        specs = [SegmentSpec(r.name, r.color, r.tracking_uid or None) for r in brushes]
        seg = build_seg(
            [target.header],
            _masks(brushes, target.header, key),
            specs,
            series_uid=series_uid(target.study_uid, SEG_SERIES[0]),
            series_number=SEG_SERIES[1],
            series_description=SEG_SERIES[0],
        )
        segments = {id(r): n for n, r in enumerate(brushes, start=1)}
        new_seg = seg_path(target.folder, key, str(seg.SOPInstanceUID))
        write_atomic(seg, new_seg)
    sr = build_sr(
        [plane],
        {key: target.header},
        series_uid=series_uid(target.study_uid, SR_SERIES[0]),
        series_number=SR_SERIES[1],
        series_description=SR_SERIES[0],
        seg=seg,
        segments=segments,
    )
    path = sr_path(target.folder, key)
    write_atomic(sr, path)
    common: dict[str, Any] = {"study_id": target.study_id, "study_uid": target.study_uid, "key": key}
    put_object(
        target.db,
        series=SR_SERIES,
        modality="SR",
        sop_class=str(sr.SOPClassUID),
        sop_instance_uid=str(sr.SOPInstanceUID),
        path=path,
        **common,
    )
    old = _old_segs(target.folder, key, new_seg)
    if seg is not None and new_seg is not None:
        put_object(
            target.db,
            series=SEG_SERIES,
            modality="SEG",
            sop_class=SEG_SOP_CLASS,
            sop_instance_uid=str(seg.SOPInstanceUID),
            path=new_seg,
            replaces=old,
            **common,
        )
    else:
        remove_objects(target.db, old)
    for stale in old:
        stale.unlink(missing_ok=True)


def delete_plane(db: Database, folder: Path, key: PlaneKey) -> None:
    """Forget a plane's stored ROIs (its last ROI was deleted)."""
    doomed = [sr_path(folder, key), *_old_segs(folder, key, None)]
    remove_objects(db, doomed)
    for path in doomed:
        path.unlink(missing_ok=True)


#: What reading our own SR back needs: its class, its instance and our private block (written in
#: a fresh dataset, the block is always the first one of its group, at 0x10).
_OWN_TAGS = [Tag("SOPClassUID"), Tag("SOPInstanceUID"), Tag(0x0071, 0x0010), Tag(0x0071, 0x1001)]


def _read(path: Path, tags: list[Any] | None = None) -> Dataset:
    size = path.stat().st_size
    if size > MAX_OBJECT_BYTES:
        raise ValueError(f"{size} bytes, more than the {MAX_OBJECT_BYTES} we read")
    return pydicom.dcmread(path, specific_tags=tags)


def _read_own_sr(path: Path) -> Any:
    """The report's ROIs: from its private block alone when it has one (the standard content tree, the
    bulk of the file, is not parsed), else from the whole file."""
    try:
        return read_sr(_read(path, _OWN_TAGS))
    except ValueError:
        return read_sr(_read(path))


def read_plane(folder: Path, key: PlaneKey) -> StoredPlane | None:
    """The stored ROIs of a plane, or None when none are stored. Raises ValueError (naming the file
    and why) for a stored object that cannot be read."""
    path = sr_path(folder, key)
    if not path.exists():
        return None
    try:
        content = _read_own_sr(path)
    except Exception as exc:
        raise ValueError(f"{path}: {exc}") from None
    records = content.planes.get(key, [])
    masks: dict[str, dict[int, np.ndarray]] = {}
    kept = []
    for record in records:
        link = content.masks.get(id(record))
        if link is None:
            kept.append(record)
            continue
        if link.seg_uid not in masks:
            masks[link.seg_uid] = _seg_masks(seg_path(folder, key, link.seg_uid), key)
        mask = masks[link.seg_uid].get(link.segment)
        placed = texture_from_mask(mask, record.texture_origin, link.shape) if mask is not None else None
        if placed is None:
            log.warning(
                "%s: the mask of ROI %r (segment %d) is missing; the ROI is skipped", path, record.name, link.segment
            )
            continue
        record.texture, record.texture_origin = placed
        kept.append(record)
    return StoredPlane(kept, content.imported_from.get(key, []))


def _seg_masks(path: Path, key: PlaneKey) -> dict[int, np.ndarray]:
    try:
        content = read_seg(_read(path))
    except Exception as exc:
        log.warning("%s: %s; the plane's brush ROIs are skipped", path, exc)
        return {}
    return {frame.segment: frame.mask for frame in content.frames if frame.key == key}

"""One entry per frame of a DICOM file: geometry, rescale and window, as OsiriX reads them.

OsiriX makes a DicomImage and a DCMPix per frame of a multi-frame file. The values of a frame
are the file's top-level tags, overridden by the shared functional groups, overridden by that
frame's per-frame functional groups (Horos ``DCMPix.m``, loading a frame of an enhanced object).
An RT dose adds its GridFrameOffsetVector entry to the origin's z (Horos does exactly that, along
z whatever the orientation).

Two slice locations, two rules:

* DicomImage (``image_slice_location``, Horos ``DicomFileDCMTKCategory.mm``): the coordinate of
  ImagePositionPatient on the patient axis that dominates the normal (strictly larger magnitude;
  0 on a tie), orientation defaulting to axial and position to 0. For a multi-frame file, each
  frame's value comes from its per-frame PlanePosition(Volume) and PlaneOrientation items (kept in
  single precision) and is used only when every frame has one; otherwise all frames share the
  file's value.
* DCMPix (``pix_slice_location``, Horos ``DCMPix.m`` computeSliceLocation): the same axis rule,
  applied to the centre of the plane: pixel (columns // 2 - 0.5, rows // 2 - 0.5) in patient
  coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

__all__ = ["FrameInfo", "frames_of", "image_slice_location", "pix_slice_location", "number_of_frames"]


@dataclass
class FrameInfo:
    """What one frame needs for its DicomImage row and its DCMPix."""

    index: int
    position: list[float] | None
    orientation: list[float] | None
    spacing: list[float] | None
    thickness: float | None
    slope: float | None
    intercept: float | None
    window_center: float | None
    window_width: float | None
    slice_location: float


def _floats(item: Any, keyword: str, count: int | None = None) -> list[float] | None:
    """A numeric multi-value, or None when absent or malformed (a bad optional tag is ignored)."""
    try:
        value = item.get(keyword) if item is not None else None
    except Exception:  # a value pydicom cannot convert
        return None
    if value is None or value == "":
        return None
    items = list(value) if hasattr(value, "__iter__") and not isinstance(value, str | bytes) else [value]
    try:
        out = [float(v) for v in items]
    except (TypeError, ValueError):
        return None
    if count is not None and len(out) < count:
        return None
    return out[:count] if count is not None else out


def _float(item: Any, keyword: str) -> float | None:
    found = _floats(item, keyword)
    return found[0] if found else None


def number_of_frames(ds: Dataset) -> int:
    """NumberOfFrames (1 when absent or malformed)."""
    try:
        return max(1, int(ds.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def _dominant(normal: np.ndarray) -> int | None:
    a = np.abs(normal)
    for axis in range(3):
        others = [a[o] for o in range(3) if o != axis]
        if all(a[axis] > v for v in others):
            return axis
    return None


def _normal(orientation: list[float]) -> np.ndarray:
    o = [float(v) for v in orientation]
    return np.array([o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]])


def image_slice_location(position: list[float] | None, orientation: list[float] | None) -> float:
    """DicomImage slice location: the position's coordinate on the axis that dominates the normal."""
    origin = position if position and len(position) >= 3 else [0.0, 0.0, 0.0]
    axes = orientation if orientation and len(orientation) >= 6 else [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    axis = _dominant(_normal(axes))
    return 0.0 if axis is None else float(origin[axis])


def pix_slice_location(
    position: tuple[float, float, float],
    orientation: tuple[float, ...],
    spacing: tuple[float, float],
    rows: int,
    columns: int,
) -> float:
    """DCMPix slice location: the plane centre's coordinate on the axis that dominates the normal.

    ``spacing`` is PixelSpacing (between rows, between columns); ``orientation`` the 9 values.
    """
    x = np.float32(columns // 2) - np.float32(0.5)
    y = np.float32(rows // 2) - np.float32(0.5)
    spacing_y, spacing_x = float(spacing[0]), float(spacing[1])
    o = [float(v) for v in orientation]
    normal = np.array(o[6:9]) if len(o) >= 9 else _normal(o)
    if np.any(normal != 0):
        centre = [position[i] + float(y) * o[3 + i] * spacing_y + float(x) * o[i] * spacing_x for i in range(3)]
    else:
        centre = [position[0] + float(x) * spacing_x, position[1] + float(y) * spacing_y, position[2]]
    axis = _dominant(normal)
    return 0.0 if axis is None else float(np.float32(centre[axis]))


def _item(sequence_owner: Any, keyword: str) -> Any:
    try:
        sequence = sequence_owner.get(keyword) if sequence_owner is not None else None
    except Exception:
        return None
    return sequence[0] if sequence else None


def _apply_groups(values: dict[str, Any], group: Any) -> None:
    """Override ``values`` with what a functional-group item holds."""
    if group is None:
        return
    if (item := _item(group, "PlanePositionSequence")) is not None:
        values["position"] = _floats(item, "ImagePositionPatient", 3) or values["position"]
    if (item := _item(group, "PlaneOrientationSequence")) is not None:
        values["orientation"] = _floats(item, "ImageOrientationPatient", 6) or values["orientation"]
    if (item := _item(group, "PixelMeasuresSequence")) is not None:
        values["spacing"] = _floats(item, "PixelSpacing", 2) or values["spacing"]
        values["thickness"] = _float(item, "SliceThickness") or values["thickness"]
    if (item := _item(group, "PixelValueTransformationSequence")) is not None:
        slope = _float(item, "RescaleSlope")
        values["slope"] = slope if slope else values["slope"]
        intercept = _float(item, "RescaleIntercept")
        values["intercept"] = intercept if intercept is not None else values["intercept"]
    if (item := _item(group, "FrameVOILUTSequence")) is not None:
        center, width = _float(item, "WindowCenter"), _float(item, "WindowWidth")
        if center is not None and width:
            values["window_center"], values["window_width"] = center, width


def _per_frame_locations(ds: Dataset, frames: int) -> list[float] | None:
    """Horos' per-frame DicomImage slice locations (only when every frame has one)."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if not per_frame:
        return None
    found: list[float] = []
    for group in per_frame:
        volume = _item(group, "PlanePositionVolumeSequence")
        origin = _floats(volume, "ImagePositionVolume", 3) if volume is not None else None
        orientation = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        if origin is None:
            origin = _floats(_item(group, "PlanePositionSequence"), "ImagePositionPatient", 3)
            orientation_item = _item(group, "PlaneOrientationSequence")
            read = _floats(orientation_item, "ImageOrientationPatient", 6)
            if origin is None or read is None:
                continue
            orientation = read
        axis = _dominant(_normal(orientation))
        found.append(0.0 if axis is None else float(np.float32(origin[axis])))
    return found if len(found) == frames else None


def frames_of(ds: Dataset) -> list[FrameInfo]:
    """One FrameInfo per frame of ``ds`` (a header read without its pixel data)."""
    frames = number_of_frames(ds)
    base: dict[str, Any] = {
        "position": _floats(ds, "ImagePositionPatient", 3),
        "orientation": _floats(ds, "ImageOrientationPatient", 6),
        "spacing": _floats(ds, "PixelSpacing", 2) or _floats(ds, "ImagerPixelSpacing", 2),
        "thickness": _float(ds, "SliceThickness"),
        "slope": _float(ds, "RescaleSlope") or None,
        "intercept": _float(ds, "RescaleIntercept"),
        "window_center": _float(ds, "WindowCenter"),
        "window_width": _float(ds, "WindowWidth"),
    }
    _apply_groups(base, _item(ds, "SharedFunctionalGroupsSequence"))
    file_location = image_slice_location(
        _floats(ds, "ImagePositionPatient", 3), _floats(ds, "ImageOrientationPatient", 6)
    )
    locations = _per_frame_locations(ds, frames) if frames > 1 else None
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    offsets = _floats(ds, "GridFrameOffsetVector") if str(ds.get("Modality", "")) == "RTDOSE" else None
    out = []
    for index in range(frames):
        values = dict(base)
        if index < len(per_frame):
            _apply_groups(values, per_frame[index])
        if offsets and index < len(offsets) and values["position"]:
            values["position"] = [*values["position"][:2], values["position"][2] + offsets[index]]
        location = locations[index] if locations else file_location
        out.append(FrameInfo(index=index, slice_location=location, **values))
    return out

"""An ROI as plain data: what is stored, exported and read back, whoever drew it.

A record holds every attribute the OsiriXgrpc protocol has for an ROI (type, name, colour,
opacity, thickness, points, rectangle, mask) plus what OsiriX keeps with it (pixel spacing,
whether it is splined) and a tracking UID that identifies it in DICOM objects. The plane it lies
on is a :class:`PlaneKey`: the SOP instance of the image and the frame within it (0 for a
single-frame image), as OsiriX keys its stored ROIs (``DicomStudy roiForImage:``: "UID-frame").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..vocabulary import RoiCode, codes_where, roi_type

__all__ = ["PlaneKey", "RoiRecord", "SourceImage", "DEFAULT_COLOR", "AREA_TYPES", "LINE_TYPES", "type_name"]

#: Types whose inside OsiriX measures (area and pixel statistics; their pixels are a mask in a SEG export).
AREA_TYPES = frozenset(
    {RoiCode.RECTANGLE, RoiCode.OVAL, RoiCode.CLOSED_POLYGON, RoiCode.OPEN_POLYGON, RoiCode.PENCIL, RoiCode.BRUSH}
)
#: Types whose length OsiriX measures (their first two points).
LINE_TYPES = frozenset({RoiCode.MEASURE, RoiCode.ARROW})
#: Types whose shape is OsiriX's ``rect``.
_RECT_TYPES = codes_where(shape="rectangle")
#: The colour given to ROIs read from objects that carry none (our choice).
DEFAULT_COLOR = (255, 255, 0)


@dataclass(frozen=True)
class PlaneKey:
    """An image plane: SOP instance UID and frame index (0-based) within that instance."""

    sop_instance_uid: str
    frame: int = 0

    def label(self) -> str:
        """OsiriX's key of the plane's stored ROIs: ``<SOPInstanceUID>-<frame>``."""
        return f"{self.sop_instance_uid}-{self.frame}"


@dataclass(frozen=True)
class SourceImage:
    """An image an ROI was drawn on, as the DICOM writers need it: its file and its plane."""

    path: str
    key: PlaneKey
    rows: int
    columns: int
    slice_index: int = 0  # the plane's position in its viewer (for tables)


def type_name(itype: int) -> str:
    """OsiriX's name of an ROI type (``tOval`` ...), or ``type <n>``."""
    found = roi_type(itype)
    return found.osirix_name if found is not None else f"type {itype}"


@dataclass(eq=False)
class RoiRecord:
    """One ROI as data. ``points`` are (x = column, y = row) pixels; ``rect`` is OsiriX's rect (an
    oval's origin is its centre and its size its half-axes); ``texture`` is a brush ROI's boolean
    mask placed at ``texture_origin`` (x, y)."""

    itype: int
    name: str
    color: tuple[int, int, int] = DEFAULT_COLOR
    opacity: float = 1.0
    thickness: float = 1.0
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    rect: tuple[float, float, float, float] | None = None
    texture: np.ndarray | None = None
    texture_origin: tuple[int, int] = (0, 0)
    spacing: tuple[float, float] = (1.0, 1.0)
    spline: bool = True
    tracking_uid: str = ""
    #: Measurements, by name: ``area_mm2``, ``mean``, ``std_dev``, ``min``, ``max``, ``length_mm``.
    measurements: dict[str, float] = field(default_factory=dict)

    @property
    def is_mask(self) -> bool:
        """A brush ROI: stored in a SEG."""
        return self.itype == RoiCode.BRUSH

    def to_json(self) -> dict[str, Any]:
        """The attributes as JSON-able data (the mask is left to the SEG that holds it)."""
        return {
            "uid": self.tracking_uid,
            "type": self.itype,
            "name": self.name,
            "color": list(self.color),
            "opacity": self.opacity,
            "thickness": self.thickness,
            "points": np.asarray(self.points, dtype=np.float64).reshape(-1, 2).tolist(),
            "rect": list(self.rect) if self.rect is not None else None,
            "texture_origin": list(self.texture_origin),
            "texture_shape": list(self.texture.shape) if self.texture is not None else None,
            "spacing": list(self.spacing),
            "spline": self.spline,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoiRecord:
        """A record from :meth:`to_json`'s data (raises ValueError naming the bad field)."""
        try:
            itype = int(data["type"])
            record = cls(
                itype=itype,
                name=str(data["name"]),
                color=_color(data.get("color")),
                opacity=_number(data.get("opacity", 1.0), "opacity"),
                thickness=_number(data.get("thickness", 1.0), "thickness"),
                points=_points(data.get("points") or []),
                rect=_rect(data.get("rect"), itype),
                texture_origin=_pair(data.get("texture_origin") or (0, 0)),
                spacing=_spacing(data.get("spacing") or (1.0, 1.0)),
                spline=bool(data.get("spline", True)),
                tracking_uid=str(data.get("uid") or ""),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"ROI record {data!r:.120}: missing or malformed field ({exc})") from None
        if roi_type(itype) is None:
            raise ValueError(f"ROI record {record.name!r}: unknown ROI type {itype}")
        return record

    def fingerprint(self) -> bytes:
        """What identifies the ROI's stored content (two equal fingerprints store the same file)."""
        parts = [repr(sorted(self.to_json().items())).encode()]
        if self.texture is not None:
            parts.append(np.packbits(self.texture.astype(bool)).tobytes())
        return b"\0".join(parts)


def _number(value: Any, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def _color(value: Any) -> tuple[int, int, int]:
    if value is None:
        return DEFAULT_COLOR
    r, g, b = (min(255, max(0, int(c))) for c in value)
    return (r, g, b)


def _points(value: Any) -> np.ndarray:
    points = np.asarray(value, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(points).all():
        raise ValueError("points must be finite numbers")
    return points


def _rect(value: Any, itype: int) -> tuple[float, float, float, float] | None:
    if value is None:
        return None if itype not in _RECT_TYPES else (0.0, 0.0, 0.0, 0.0)
    x, y, width, height = (_number(v, "rect") for v in value)
    return (x, y, width, height)


def _pair(value: Any) -> tuple[int, int]:
    x, y = value
    return (int(x), int(y))


def _spacing(value: Any) -> tuple[float, float]:
    x, y = value
    return (_number(x, "spacing"), _number(y, "spacing"))

"""Build an ROI from a ``ViewerControllerNewROI`` request, as OsiriX's plugin does.

Points types take ``points``; rectangle types take ``rectangle`` (a rectangle's origin is its
top-left corner; for ovals and oval angles, as pyosirix sends them, the origin is the centre and
width/height are the half-axes; a text or 2D point sits at the origin); the brush type takes a
``buffer`` placed with its top-left pixel at (``buffer_position_x``, ``buffer_position_y``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import geometry
from .protocol import RpcFailure
from .workspace import POINT_COUNTS, ROI_TYPES, Roi, Viewer

__all__ = ["new_roi", "tagt_points"]


def _refuse(reason: str) -> RpcFailure:
    return RpcFailure(f"Could not create ROI: {reason}")


def _finite(values: list[float], what: str) -> None:
    if not all(math.isfinite(v) for v in values):
        raise _refuse(f"{what} contains NaN or infinite values")


def tagt_points(points: np.ndarray) -> np.ndarray:
    """tTAGT: points are D, A, (projection of C), C, (projection of B), B; OsiriX computes the
    two projections onto the line DA."""
    d, a, c, b = points[0], points[1], points[3], points[5]
    axis = a - d
    length = float(np.dot(axis, axis))
    out = points.copy()
    for target, source in ((2, c), (4, b)):
        t = float(np.dot(source - d, axis)) / length if length else 0.0
        out[target] = d + t * axis
    return out


def _shape(itype: int, request: Any) -> tuple[np.ndarray, np.ndarray | None]:
    name, kind = ROI_TYPES[itype]
    if kind == "points":
        points = np.array([[p.x, p.y] for p in request.points], dtype=np.float64).reshape(-1, 2)
        _finite(points.ravel().tolist(), "points")
        need = POINT_COUNTS.get(itype, -1)
        if (need > 0 and len(points) != need) or (need < 0 and len(points) < -need):
            count = f"exactly {need}" if need > 0 else f"at least {-need}"
            raise _refuse(f"a {name} ROI needs {count} points, got {len(points)}")
        return (tagt_points(points) if itype == 29 else points), None
    if kind == "rectangle":
        rect = request.rectangle
        values = [rect.origin_x, rect.origin_y, rect.width, rect.height]
        _finite(values, "rectangle")
        x, y, width, height = values
        if itype in (13, 19):
            return np.array([[x, y]]), None
        if width <= 0 or height <= 0:
            raise _refuse(f"a {name} ROI needs a rectangle with positive width and height")
        if itype == 6:
            return np.array([[x, y], [x + width, y], [x + width, y + height], [x, y + height]]), None
        return geometry.oval_points(x, y, width, height), None
    return np.zeros((0, 2)), None  # buffer: built by the caller


def _mask(viewer: Viewer, frame: int, index: int, request: Any) -> np.ndarray:
    buffer = request.buffer
    rows, columns = buffer.rows, buffer.columns
    if rows <= 0 or columns <= 0:
        raise _refuse("the buffer needs positive rows and columns")
    if rows * columns != len(buffer.buffer):
        raise _refuse(f"the buffer has {len(buffer.buffer)} values but rows x columns = {rows * columns}")
    pix = viewer.frames[frame][index]
    values = np.asarray(buffer.buffer, dtype=bool).reshape(rows, columns)
    mask = np.zeros((pix.rows, pix.columns), dtype=bool)
    top, left = request.buffer_position_y, request.buffer_position_x
    r0, c0 = max(0, top), max(0, left)
    r1, c1 = min(pix.rows, top + rows), min(pix.columns, left + columns)
    if r1 <= r0 or c1 <= c0:
        raise _refuse("the buffer lies outside the image")
    mask[r0:r1, c0:c1] = values[r0 - top : r1 - top, c0 - left : c1 - left]
    return mask


def new_roi(viewer: Viewer, frame: int, index: int, request: Any) -> Roi:
    """The ROI the request describes (status 0 ``Could not create ROI: <reason>`` otherwise)."""
    itype = request.itype
    if itype not in ROI_TYPES:
        known = ", ".join(str(t) for t in sorted(ROI_TYPES))
        raise _refuse(f"unknown ROI type {itype} (types: {known})")
    _finite([request.opacity, request.thickness], "opacity/thickness")
    points, _ = _shape(itype, request)
    mask = _mask(viewer, frame, index, request) if ROI_TYPES[itype][1] == "buffer" else None
    color: tuple[int, int, int] = (0, 255, 0)  # unset: OsiriX's default ROI colour
    if request.HasField("color"):
        r, g, b = (int(min(255, max(0, c))) for c in (request.color.r, request.color.g, request.color.b))
        color = (r, g, b)
    # Unset (0) opacity and thickness mean OsiriX's defaults: opaque, 1 point thick.
    opacity = min(1.0, max(0.0, request.opacity)) if request.opacity else 1.0
    thickness = request.thickness if request.thickness > 0 else 1.0
    return Roi(itype, request.name or "Unnamed", viewer, frame, index, points, mask, color, opacity, thickness)

"""Build an ROI from a ``ViewerControllerNewROI`` request, as the plugin does.

The plugin (``gRPCViewerControllerDelegate.mm``) builds the ROI by its type (points types take
``points``, rectangle types ``rectangle``, the brush ``buffer``), asks OsiriX whether it is valid
(Horos ``ROI.m`` ``-valid``) and answers ``Could not create ROI`` when the type is unknown, the
buffer does not match rows x columns, or the ROI is not valid. It then sets the colour (clamped to
0-255), the thickness and the opacity from the request as they are (an unset field is 0), and the
name as given. The ROI takes its pixel spacing from the displayed DCMPix of the viewer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import OsirixError
from ..vocabulary import ROI_TYPES, RoiCode
from .roi import MIN_POINTS, RECT_TYPES, Roi
from .roi_bounds import check_points, check_texture
from .workspace import Viewer

__all__ = ["new_roi", "tagt_points", "clamp_color", "osirix_thickness", "osirix_name", "read_points", "NOT_CREATED"]

NOT_CREATED = "Could not create ROI"
#: ``-setName:`` keeps at most this many characters (text ROIs excepted).
NAME_LIMIT = 256


def clamp_color(r: int, g: int, b: int) -> tuple[int, int, int]:
    """The plugin clamps each channel to 0-255."""
    return (min(255, max(0, r)), min(255, max(0, g)), min(255, max(0, b)))


def osirix_thickness(value: float) -> float:
    """``-setThickness:``: rounded to a whole number, then kept within 1-20."""
    return float(min(20.0, max(1.0, float(np.float32(round_half_away(value))))))


def round_half_away(value: float) -> float:
    """C ``roundf``: halves round away from zero."""
    return math.copysign(math.floor(abs(value) + 0.5), value)


def osirix_name(name: str, itype: int) -> str:
    """``-setName:`` truncates long names (a text ROI keeps its whole text)."""
    return name if itype == RoiCode.TEXT else name[:NAME_LIMIT]


def tagt_points(points: np.ndarray) -> np.ndarray:
    """``-valid`` for tTAGT: points 0 and 2 become the projections of points 1 and 3 onto the line
    through points 4 and 5."""
    out = points.astype(np.float64).copy()
    start, end = out[4], out[5]
    axis = end - start
    length = float(np.float32(axis[0] * axis[0] + axis[1] * axis[1]))
    for target, source in ((0, 1), (2, 3)):
        u = float(np.dot(out[source] - start, axis)) / length if length else math.nan
        out[target] = start + u * axis
    return out


def _points_valid(itype: int, points: np.ndarray) -> bool:
    if len(points) < MIN_POINTS.get(itype, 0):
        return False
    if itype in (RoiCode.MEASURE, RoiCode.ARROW):  # a line or arrow needs two distinct ends
        return not (abs(points[0, 0] - points[1, 0]) < 0.2 and abs(points[0, 1] - points[1, 1]) < 0.2)
    return True


def _rect_valid(itype: int, rect: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    """``-valid`` for rectangle types: the rect it normalises to, or None when it is too small."""
    x, y, width, height = rect
    # A text ROI is sized by its string; 2D points (and oval angles, our choice) are never too small.
    if itype in (RoiCode.TEXT, RoiCode.POINT, RoiCode.OVAL_ANGLE):
        return rect
    if itype == RoiCode.OVAL:
        width, height = abs(width), abs(height)
    else:
        if width < 0:
            x, width = x + width, -width
        if height < 0:
            y, height = y + height, -height
    if width < 0.2 or height < 0.2:
        return None
    return (x, y, width, height)


def _texture(request: Any, plane: Any) -> tuple[np.ndarray, tuple[int, int]] | None:
    buffer = request.buffer
    rows, columns = buffer.rows, buffer.columns
    if rows * columns != len(buffer.buffer) or rows < 0 or columns < 0:
        return None
    check_texture(rows, columns, plane.rows, plane.columns, NOT_CREATED)
    values = np.fromiter(buffer.buffer, dtype=bool, count=rows * columns).reshape(rows, columns)
    if not values.any():  # -valid: an empty texture is not an ROI
        return None
    return values, (request.buffer_position_x, request.buffer_position_y)


def read_points(points: Any, prefix: str) -> np.ndarray:
    """The (N, 2) x, y array of a request's repeated Point2D (refused beyond the bound before reading)."""
    check_points(len(points), prefix)
    flat = np.fromiter((v for p in points for v in (p.x, p.y)), dtype=np.float64, count=2 * len(points))
    return flat.reshape(-1, 2)


def _finite(values: list[float], what: str) -> None:
    if not all(math.isfinite(v) for v in values):
        raise OsirixError(f"{NOT_CREATED}: the {what} contain NaN or infinite values - give finite numbers")


def new_roi(viewer: Viewer, frame: int, index: int, request: Any) -> Roi:
    """The ROI the request describes; status 0 ``Could not create ROI`` when OsiriX would not make one."""
    itype = request.itype
    if itype not in ROI_TYPES:
        raise OsirixError(NOT_CREATED)
    shown = viewer.current_pix()
    roi = Roi(
        itype, osirix_name(request.name, itype), viewer, frame, index, spacing=(shown.spacing[1], shown.spacing[0])
    )
    kind = ROI_TYPES[itype].shape
    if kind == "buffer":
        texture = _texture(request, shown)
        if texture is None:
            raise OsirixError(NOT_CREATED)
        roi.texture, roi.texture_origin = texture
    elif itype in RECT_TYPES:
        r = request.rectangle
        _finite([r.origin_x, r.origin_y, r.width, r.height], "rectangle values")
        rect = _rect_valid(itype, (r.origin_x, r.origin_y, r.width, r.height))
        if rect is None:
            raise OsirixError(NOT_CREATED)
        roi.rect = rect
    else:
        points = read_points(request.points, NOT_CREATED)
        if not np.isfinite(points).all():
            _finite([math.nan], "points")
        if not _points_valid(itype, points):
            raise OsirixError(NOT_CREATED)
        roi.points = tagt_points(points) if itype == RoiCode.TAGT else points
    _finite([request.opacity, request.thickness], "opacity and thickness")
    roi.color = clamp_color(request.color.r, request.color.g, request.color.b)
    roi.thickness = osirix_thickness(request.thickness)
    roi.opacity = float(np.float32(request.opacity))
    if itype == RoiCode.BRUSH:
        roi.spline = False
    return roi

"""``ROI*`` RPCs: one region of interest on a plane of a viewer (``gRPCROIDelegate.mm``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from osirixgrpc import roi_pb2

from ...errors import OsirixError
from ...vocabulary import RoiCode
from ..protocol import implements, ok
from ..roi import Roi
from ..roi_factory import clamp_color, osirix_name, osirix_thickness, read_points
from ..state import OsirixState
from .tables import field, fields, getters, ref, setters

Point = roi_pb2.ROIPointsResponse.Point2D


def _roi(state: OsirixState, ref_: Any) -> Roi:
    roi: Roi = state.live(ref_, "ROI")
    return roi


def _finite(*values: float) -> None:
    """Our own refusal (the plugin passes NaN and infinities on to OsiriX)."""
    if not all(math.isfinite(v) for v in values):
        raise OsirixError(f"Values must be finite numbers, got {', '.join(str(v) for v in values)}")


def _set_name(roi: Roi, request: Any) -> None:
    roi.name = osirix_name(request.name, roi.itype)


def _set_color(roi: Roi, request: Any) -> None:
    roi.color = clamp_color(request.r, request.g, request.b)


def _set_opacity(roi: Roi, request: Any) -> None:
    _finite(request.opacity)
    roi.opacity = float(np.float32(min(1.0, max(0.0, request.opacity))))


def _set_thickness(roi: Roi, request: Any) -> None:
    _finite(request.thickness)
    roi.thickness = osirix_thickness(request.thickness)


def _set_points(roi: Roi, request: Any) -> None:
    """``-setPoints:`` ignores rectangles, ovals and 2D points; a brush ROI keeps its texture."""
    points = read_points(request.points, "ROISetPoints")
    if not np.isfinite(points).all():
        bad = points[~np.isfinite(points).all(axis=1)][0]
        raise OsirixError(f"Values must be finite numbers, got the point ({bad[0]}, {bad[1]})")
    if roi.itype in (RoiCode.RECTANGLE, RoiCode.OVAL, RoiCode.POINT, RoiCode.OVAL_ANGLE, RoiCode.BRUSH):
        return
    roi.points = points


def _move(roi: Roi, request: Any) -> None:
    """``-roiMove:`` (the plugin selects the ROI for the move, as OsiriX moves selected ROIs only)."""
    _finite(request.columns, request.rows)
    roi.move(request.columns, request.rows)


def _rotate(roi: Roi, request: Any) -> None:
    """``-rotate::`` about (x, y), with the pix's pixel ratio."""
    _finite(request.degrees, request.x, request.y)
    roi.rotate(request.degrees, request.x, request.y, roi.pix.pixel_ratio)


def _points(roi: Roi) -> list[Any]:
    return [Point(x=float(x), y=float(y)) for x, y in roi.outline()]


getters(
    _roi,
    {
        "ROIName": field("name", lambda roi: roi.name),
        "ROIIType": field("itype", lambda roi: roi.itype),
        "ROIColor": fields(r=lambda roi: roi.color[0], g=lambda roi: roi.color[1], b=lambda roi: roi.color[2]),
        "ROIOpacity": field("opacity", lambda roi: roi.opacity),
        "ROIThickness": field("thickness", lambda roi: roi.thickness),
        "ROIPoints": field("points", _points),
        "ROIArea": field("area", lambda roi: roi.area_cm2()),
        "ROICentroid": fields(x=lambda roi: roi.centroid()[0], y=lambda roi: roi.centroid()[1]),
        "ROIPix": ref("pix", "DCMPix", lambda roi: roi.pix),
    },
)

setters(
    _roi,
    "roi",
    {
        "ROISetName": _set_name,
        "ROISetColor": _set_color,
        "ROISetOpacity": _set_opacity,
        "ROISetThickness": _set_thickness,
        "ROISetPoints": _set_points,
        "ROIMove": _move,
        "ROIRotate": _rotate,
    },
)


setters(
    _roi,
    "",
    {
        "ROIFlipHorizontally": lambda roi, request: roi.flip(vertically=False),  # the plugin's flipVertically:NO
        "ROIFlipVertically": lambda roi, request: roi.flip(vertically=True),
    },
)


@implements
def ROIDelete(state: OsirixState, request: Any) -> Any:
    """Remove the ROI from its viewer; its uid becomes stale."""
    roi = _roi(state, request)
    with state.lock:
        plane = roi.viewer.rois[roi.frame][roi.slice]
        if roi in plane:
            plane.remove(roi)
        roi.deleted = True
    state.forget([roi])
    return ok("ROIDelete")

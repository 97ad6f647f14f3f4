"""``ROI*`` RPCs: one region of interest on a plane of a viewer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from osirixgrpc import roi_pb2

from . import geometry
from .protocol import RpcFailure, implements, ok
from .state import OsirixState
from .workspace import Roi

Point = roi_pb2.ROIPointsResponse.Point2D


def _roi(state: OsirixState, ref: Any) -> Roi:
    roi: Roi = state.live(ref, "ROI")
    return roi


def _finite(*values: float) -> None:
    if not all(math.isfinite(v) for v in values):
        raise RpcFailure(f"Values must be finite numbers, got {', '.join(str(v) for v in values)}")


def _mask_points(mask: np.ndarray) -> np.ndarray:
    """The border pixels of a brush ROI as (x = column, y = row) points."""
    padded = np.pad(mask, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    rows, columns = np.nonzero(mask & ~interior)
    return np.column_stack([columns, rows]).astype(np.float64)


def _transform_mask(roi: Roi, transform: Any) -> None:
    """Move a brush ROI's pixels through ``transform(points) -> points`` (rounded to pixels)."""
    assert roi.mask is not None
    rows, columns = np.nonzero(roi.mask)
    moved = np.rint(transform(np.column_stack([columns, rows]).astype(np.float64))).astype(int)
    mask = np.zeros_like(roi.mask)
    ok_ = (moved[:, 0] >= 0) & (moved[:, 0] < mask.shape[1]) & (moved[:, 1] >= 0) & (moved[:, 1] < mask.shape[0])
    mask[moved[ok_, 1], moved[ok_, 0]] = True
    roi.mask = mask


def _edit(state: OsirixState, roi: Roi, transform: Any) -> None:
    with state.lock:
        if roi.mask is not None:
            _transform_mask(roi, transform)
        else:
            roi.points = transform(roi.points)


@implements
def ROIName(state: OsirixState, request: Any) -> Any:
    """The name (ROIs are grouped by name)."""
    return ok("ROIName", name=_roi(state, request).name)


@implements
def ROISetName(state: OsirixState, request: Any) -> Any:
    """Rename."""
    _roi(state, request.roi).name = request.name
    return ok("ROISetName")


@implements
def ROIIType(state: OsirixState, request: Any) -> Any:
    """OsiriX's tool number."""
    return ok("ROIIType", itype=_roi(state, request).itype)


@implements
def ROIColor(state: OsirixState, request: Any) -> Any:
    """Colour as 0-255 integers."""
    r, g, b = _roi(state, request).color
    return ok("ROIColor", r=r, g=g, b=b)


@implements
def ROISetColor(state: OsirixState, request: Any) -> Any:
    """Set the colour (clamped to 0-255)."""
    roi = _roi(state, request.roi)
    roi.color = tuple(int(min(255, max(0, c))) for c in (request.r, request.g, request.b))  # type: ignore[assignment]
    return ok("ROISetColor")


@implements
def ROIOpacity(state: OsirixState, request: Any) -> Any:
    """Opacity, 0-1."""
    return ok("ROIOpacity", opacity=_roi(state, request).opacity)


@implements
def ROISetOpacity(state: OsirixState, request: Any) -> Any:
    """Set the opacity (clamped to 0-1)."""
    roi = _roi(state, request.roi)
    _finite(request.opacity)
    roi.opacity = min(1.0, max(0.0, request.opacity))
    return ok("ROISetOpacity")


@implements
def ROIThickness(state: OsirixState, request: Any) -> Any:
    """Line thickness in points."""
    return ok("ROIThickness", thickness=_roi(state, request).thickness)


@implements
def ROISetThickness(state: OsirixState, request: Any) -> Any:
    """Set the line thickness (OsiriX allows 0-20)."""
    roi = _roi(state, request.roi)
    _finite(request.thickness)
    roi.thickness = min(20.0, max(0.0, request.thickness))
    return ok("ROISetThickness")


@implements
def ROIPoints(state: OsirixState, request: Any) -> Any:
    """Vertices (x = column, y = row); a brush ROI answers its border pixels."""
    roi = _roi(state, request)
    points = _mask_points(roi.mask) if roi.mask is not None else roi.points
    return ok("ROIPoints", points=[Point(x=float(x), y=float(y)) for x, y in points])


@implements
def ROISetPoints(state: OsirixState, request: Any) -> Any:
    """Replace the vertices."""
    roi = _roi(state, request.roi)
    if roi.mask is not None:
        raise RpcFailure("A brush (tPlain) ROI has no vertices to set: create a new mask ROI instead")
    points = np.array([[p.x, p.y] for p in request.points], dtype=np.float64).reshape(-1, 2)
    _finite(*points.ravel().tolist())
    if len(points) == 0:
        raise RpcFailure("No points provided")
    with state.lock:
        roi.points = points
    return ok("ROISetPoints")


@implements
def ROIArea(state: OsirixState, request: Any) -> Any:
    """Area in cm2."""
    return ok("ROIArea", area=_roi(state, request).area_cm2())


@implements
def ROICentroid(state: OsirixState, request: Any) -> Any:
    """Centroid (x, y) in pixels."""
    x, y = _roi(state, request).centroid()
    return ok("ROICentroid", x=x, y=y)


@implements
def ROIMove(state: OsirixState, request: Any) -> Any:
    """Shift by columns, rows (OsiriX moves a selected ROI; the plugin selects it for the move)."""
    roi = _roi(state, request.roi)
    _finite(request.columns, request.rows)
    shift = np.array([request.columns, request.rows])
    _edit(state, roi, lambda p: p + shift)
    return ok("ROIMove")


@implements
def ROIRotate(state: OsirixState, request: Any) -> Any:
    """Rotate by degrees about (x, y)."""
    roi = _roi(state, request.roi)
    _finite(request.degrees, request.x, request.y)
    _edit(state, roi, lambda p: geometry.rotate_points(p, request.degrees, request.x, request.y))
    return ok("ROIRotate")


@implements
def ROIFlipHorizontally(state: OsirixState, request: Any) -> Any:
    """Mirror left-right about the ROI's centre."""
    roi = _roi(state, request)
    _edit(state, roi, lambda p: geometry.flip_points(p, horizontally=True))
    return ok("ROIFlipHorizontally")


@implements
def ROIFlipVertically(state: OsirixState, request: Any) -> Any:
    """Mirror top-bottom about the ROI's centre."""
    roi = _roi(state, request)
    _edit(state, roi, lambda p: geometry.flip_points(p, horizontally=False))
    return ok("ROIFlipVertically")


@implements
def ROIPix(state: OsirixState, request: Any) -> Any:
    """The DCMPix the ROI lies on."""
    return ok("ROIPix", pix=state.ref("DCMPix", _roi(state, request).pix))


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

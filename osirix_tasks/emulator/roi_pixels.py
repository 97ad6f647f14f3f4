"""Which pixels of a plane an ROI covers, as DCMPix computes them (Horos ``DCMPix.m``).

Two different rules, both in OsiriX:

- ``getROIValue`` (statistics, ROI values): a brush ROI's texture; otherwise the ROI's measured
  points (the spline for splined types) truncated to whole pixels: one point gives that pixel, two
  points give nothing (lines have no inside), three or more are filled as a polygon.
- ``getMapFromPolygonROI`` (DCMPixGetMapFromROI, polygon and pencil types): the raw vertices
  truncated to whole pixels, filled in a box one pixel larger than their bounds whose border OsiriX
  clears, so the pixels on the lowest row and column of the vertices are never in the map.
"""

from __future__ import annotations

import numpy as np

from ..roidicom.masks import plane_mask
from .geometry import fill_crossings, polygon_mask
from .roi import Roi
from .roi_bounds import check_fill

__all__ = ["values_map", "polygon_map"]


def _texture_map(roi: Roi, rows: int, columns: int) -> np.ndarray:
    assert roi.texture is not None
    return plane_mask(roi, rows, columns)


def _whole_pixels(points: np.ndarray) -> np.ndarray:
    """OsiriX's NSPointInt: each coordinate truncated toward zero."""
    return np.trunc(np.asarray(points, dtype=np.float64))


def _filled(roi: Roi, points: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """``polygon_mask`` once its work is known to be within bounds."""
    check_fill(fill_crossings(points, rows), roi.name, rows, columns)
    return polygon_mask(points, rows, columns)


def values_map(roi: Roi, rows: int, columns: int) -> np.ndarray:
    """The (rows, columns) map of the pixels ``getROIValue`` reads for ``roi``."""
    if roi.texture is not None:
        return _texture_map(roi, rows, columns)
    points = _whole_pixels(roi.measured_points())
    out = np.zeros((rows, columns), dtype=bool)
    if len(points) == 1:
        x, y = int(points[0, 0]), int(points[0, 1])
        if 0 <= x < columns and 0 <= y < rows:
            out[y, x] = True
        return out
    if len(points) < 3:
        return out
    return _filled(roi, points, rows, columns)


def polygon_map(roi: Roi, rows: int, columns: int) -> np.ndarray:
    """The (rows, columns) map DCMPixGetMapFromROI answers for a brush, polygon or pencil ROI."""
    if roi.texture is not None:
        return _texture_map(roi, rows, columns)
    points = _whole_pixels(roi.outline())
    if len(points) < 2:
        return np.zeros((rows, columns), dtype=bool)
    out = _filled(roi, points, rows, columns)
    low_x, low_y = int(points[:, 0].min()), int(points[:, 1].min())
    if 0 <= low_y < rows:
        out[low_y, :] = False
    if 0 <= low_x < columns:
        out[:, low_x] = False
    return out

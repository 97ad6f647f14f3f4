"""An OsiriX ROI: its shape as OsiriX stores it, and what OsiriX computes from it (Horos ``ROI.m``).

OsiriX keeps three kinds of shape (:data:`osirix_tasks.vocabulary.ROI_TYPES`): a rectangle for
rectangle, oval, text, 2D point and oval angle ROIs (``rect``: origin and size; an oval's origin is
its centre and its size its half-axes), a list of points for the others, and a texture (a boolean
buffer placed at an integer position) for brush ROIs. Every computation below follows the ``ROI.m`` method named
in its docstring; coordinates are pixels, x = column, y = row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..vocabulary import RoiCode, codes_where
from .roi_bounds import check_curve
from .spline import spline_points, spline_size

__all__ = [
    "Roi",
    "RECT_TYPES",
    "SPLINE_TYPES",
    "VOLUME_TYPES",
    "MAP_TYPES",
    "MIN_POINTS",
    "oval_outline",
    "shoelace_float32",
]

#: Types whose shape is ``rect``.
RECT_TYPES = codes_where(shape="rectangle")
#: Types OsiriX measures through its smoothing spline (``splinePoints:``).
SPLINE_TYPES = frozenset({RoiCode.OPEN_POLYGON, RoiCode.CLOSED_POLYGON, RoiCode.PENCIL})
#: Types an ROIVolume is built from (ROIVolume.mm ``setROIList:``).
VOLUME_TYPES = frozenset({RoiCode.PENCIL, RoiCode.CLOSED_POLYGON, RoiCode.BRUSH})
#: Types DCMPixGetMapFromROI accepts (the plugin answers ``Invalid ROI`` for the others).
MAP_TYPES = frozenset({RoiCode.BRUSH, RoiCode.CLOSED_POLYGON, RoiCode.OPEN_POLYGON, RoiCode.PENCIL})
#: Vertices OsiriX draws an oval with (``CIRCLERESOLUTION``).
CIRCLE_RESOLUTION = 200
#: Fewest points ``-valid`` accepts per points-type (more are kept as given).
MIN_POINTS: dict[int, int] = {
    RoiCode.CLOSED_POLYGON: 3,
    RoiCode.OPEN_POLYGON: 3,
    RoiCode.PENCIL: 3,
    RoiCode.ANGLE: 3,
    RoiCode.MEASURE: 2,
    RoiCode.ARROW: 2,
    RoiCode.DYNAMIC_ANGLE: 4,
    RoiCode.AXIS: 4,
    RoiCode.TAGT: 6,
}


class PlaneHolder(Protocol):
    """What an ROI needs of its viewer (a :class:`~.workspace.Viewer`): its planes, by frame and slice."""

    frames: list[list[Any]]
    rois: list[list[list[Any]]]


@dataclass(eq=False)
class Roi:
    """One ROI on one plane of a viewer."""

    itype: int
    name: str
    viewer: PlaneHolder
    frame: int
    slice: int
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    rect: tuple[float, float, float, float] | None = None
    texture: np.ndarray | None = None
    texture_origin: tuple[int, int] = (0, 0)
    spacing: tuple[float, float] = (1.0, 1.0)  # (x = between columns, y = between rows), from the displayed pix
    spline: bool = True  # OsiriX's isSpline (the preference is on); a rotated or flipped rectangle turns it off
    color: tuple[int, int, int] = (0, 0, 0)
    opacity: float = 1.0
    thickness: float = 1.0
    selected: bool = False
    deleted: bool = False

    @property
    def pix(self) -> Any:
        """The DCMPix (a :class:`~.workspace.Pix`) the ROI lies on."""
        return self.viewer.frames[self.frame][self.slice]

    # --- what OsiriX computes --------------------------------------------------------------

    def outline(self) -> np.ndarray:
        """``-points``: the vertices OsiriX reports for the ROI's shape."""
        if self.rect is not None:
            x, y, width, height = self.rect
            if self.itype == RoiCode.POINT:
                return np.array([[min(x, x + width), min(y, y + height)]])
            if self.itype == RoiCode.RECTANGLE:
                left, right = min(x, x + width), max(x, x + width)
                top, bottom = min(y, y + height), max(y, y + height)
                return np.array([[left, top], [left, bottom], [right, bottom], [right, top]], dtype=np.float64)
            if self.itype in (RoiCode.OVAL, RoiCode.OVAL_ANGLE):
                return oval_outline(x, y, width, height)
            return self.points  # a text ROI has no vertices unless some were set
        if self.texture is not None:
            return texture_border(self.texture, self.texture_origin)
        return self.points

    def measured_points(self) -> np.ndarray:
        """``-splinePoints``: the spline through the vertices for splined types, else the vertices."""
        raw = self.outline()
        if not self.spline or self.itype not in SPLINE_TYPES or len(raw) < 3:
            return raw
        closed = self.itype != RoiCode.OPEN_POLYGON
        check_curve(spline_size(raw, closed), self.name)
        curve = spline_points(raw, closed)
        return raw if curve is None or len(curve) == 0 else curve

    def area_pixels(self) -> float:
        """``-Area``: the texture's pixel count for a brush ROI, else the shoelace area of the measured
        points, accumulated in single precision as OsiriX does."""
        if self.texture is not None:
            return float(np.count_nonzero(self.texture))
        return shoelace_float32(self.measured_points())

    def area_cm2(self) -> float:
        """What ROIArea answers: the single-precision area in pixels x pixelSpacingX x pixelSpacingY / 100,
        the spacings and the product in double precision, the result kept as a float (the plugin's
        ``float area = [roi areaPix] * [roi pixelSpacingX] * [roi pixelSpacingY] / 100.0``)."""
        area = float(np.float32(self.area_pixels()))
        return float(np.float32(area * float(self.spacing[0]) * float(self.spacing[1]) / 100.0))

    def centroid(self) -> tuple[float, float]:
        """``-centroid``: a rectangle's or oval's rect origin, else the mean of ``-points``."""
        if self.rect is not None and self.itype in (RoiCode.RECTANGLE, RoiCode.OVAL):
            return (float(self.rect[0]), float(self.rect[1]))
        outline = self.outline()
        if len(outline) == 0:
            return (0.0, 0.0)
        return (float(outline[:, 0].mean()), float(outline[:, 1].mean()))

    # --- edits -------------------------------------------------------------------------------

    def move(self, dx: float, dy: float) -> None:
        """``-roiMove:``: shift the rect, the points, or the texture by whole pixels (truncated)."""
        if self.rect is not None:
            x, y, width, height = self.rect
            self.rect = (x + dx, y + dy, width, height)
        elif self.texture is not None:
            self.texture_origin = (self.texture_origin[0] + int(dx), self.texture_origin[1] + int(dy))
        else:
            self.points = self.points + np.array([dx, dy])

    def _editable_points(self) -> np.ndarray | None:
        """The points a rotation or flip acts on; rectangles and ovals become closed polygons first
        (a rectangle also stops being splined). Text, 2D point and brush ROIs are left alone:
        OsiriX edits a temporary copy of their points."""
        if self.itype in (RoiCode.RECTANGLE, RoiCode.OVAL) and self.rect is not None:
            outline = self.outline()
            if len(outline) == 0:
                return None
            if self.itype == RoiCode.RECTANGLE:
                self.spline = False
            self.itype, self.rect, self.points = RoiCode.CLOSED_POLYGON, None, outline
            return self.points
        if self.rect is not None or self.texture is not None or len(self.points) == 0:
            return None
        return self.points

    def rotate(self, degrees: float, center_x: float, center_y: float, ratio: float) -> None:
        """``-rotate::``: turn about (x, y); ``ratio`` is the pix's row spacing / column spacing."""
        points = self._editable_points()
        if points is None:
            return
        theta = math.radians(degrees)
        cos, sin = math.cos(theta), math.sin(theta)
        dx, dy = points[:, 0] - center_x, points[:, 1] - center_y
        new_x = cos * dx - sin * dy * ratio
        new_y = sin * dx + cos * dy * ratio
        self.points = np.column_stack([new_x + center_x, new_y / ratio + center_y])

    def flip(self, vertically: bool) -> None:
        """``-flipVertically:``: mirror the points about their mean."""
        points = self._editable_points()
        if points is None:
            return
        flipped = points.astype(np.float64).copy()
        axis = 1 if vertically else 0
        center = flipped[:, axis].mean()
        flipped[:, axis] = 2 * center - flipped[:, axis]
        self.points = flipped


def oval_outline(center_x: float, center_y: float, half_width: float, half_height: float) -> np.ndarray:
    """The ``CIRCLE_RESOLUTION`` vertices OsiriX draws an oval with (angles in single precision)."""
    angles = (np.arange(CIRCLE_RESOLUTION, dtype=np.float64) * 2 * math.pi / CIRCLE_RESOLUTION).astype(np.float32)
    angles64 = angles.astype(np.float64)
    return np.column_stack([center_x + half_width * np.cos(angles64), center_y + half_height * np.sin(angles64)])


def shoelace_float32(points: np.ndarray) -> float:
    """``-Area:``: |sum(x_i y_j - y_i x_j)| / 2 over the closed outline, in single precision.

    ROI.m adds x_i * y_j, then subtracts y_i * x_j, point after point, in a float (each product of
    two floats rounded to float first), then halves it: the terms are laid out in that order and
    summed with a sequential float32 accumulation (``cumsum``; ``sum`` would pair them differently).
    """
    count = len(points)
    if count == 0:
        return 0.0
    xs = np.asarray(points[:, 0], dtype=np.float32)
    ys = np.asarray(points[:, 1], dtype=np.float32)
    terms = np.empty(2 * count, dtype=np.float32)
    terms[0::2] = xs * np.roll(ys, -1)
    terms[1::2] = -(ys * np.roll(xs, -1))
    area = np.cumsum(terms, dtype=np.float32)[-1]
    return float(abs(np.float32(area * np.float32(0.5))))


def texture_border(texture: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """The border pixels of a brush ROI's texture as (x, y) points in the plane.

    OsiriX extracts the texture's contour with ITK; we answer the pixels on its border (our choice).
    """
    padded = np.pad(texture, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    rows, columns = np.nonzero(texture & ~interior)
    return np.column_stack([columns + origin[0], rows + origin[1]]).astype(np.float64)

"""How much work one ROI computation may do, and the status-0 answer when it would do more.

OsiriX computes an ROI's measures from its vertices without limits: a closed polygon whose vertices
lie a million pixels apart makes a spline of millions of points (five per pixel of outline), and its
pixel fill and statistics follow. The embedded OsiriX counts that work from the vertices before
doing it - the spline's points from the lengths between vertices, the fill's edge crossings from the
rows each edge spans within the plane - and answers status 0 naming the ROI and the bound instead.
The bounds lie far above any ROI drawn on a real image (an outline along the border of a
4096 x 4096 plane has about 80,000 spline points).
"""

from __future__ import annotations

from ..errors import OsirixError

__all__ = [
    "MAX_ROI_POINTS",
    "MAX_CURVE_POINTS",
    "MAX_FILL_CROSSINGS",
    "check_points",
    "check_curve",
    "check_fill",
    "check_texture",
]

#: Vertices one ROI may have (ViewerControllerNewROI, ROISetPoints).
MAX_ROI_POINTS = 1_000_000
#: Points of the spline OsiriX measures a polygon or pencil through (``-splinePoints``).
MAX_CURVE_POINTS = 1_000_000
#: Edge crossings of the plane's rows when an outline is filled (ROI statistics, values, maps).
MAX_FILL_CROSSINGS = 2_000_000


def check_points(count: int, prefix: str) -> None:
    """Refuse more than :data:`MAX_ROI_POINTS` vertices (before they are read)."""
    if count > MAX_ROI_POINTS:
        raise OsirixError(
            f"{prefix}: {count:,} points, more than the {MAX_ROI_POINTS:,} an ROI of the embedded OsiriX may have "
            "- simplify the outline"
        )


def check_curve(count: float, name: str) -> None:
    """Refuse a spline of more than :data:`MAX_CURVE_POINTS` points."""
    if not count <= MAX_CURVE_POINTS:  # also NaN and infinity
        raise OsirixError(
            f"ROI {name!r} is too large to measure: its spline would have {_count(count)} points, more than "
            f"the {MAX_CURVE_POINTS:,} the embedded OsiriX computes - keep its points within the image"
        )


def check_fill(count: float, name: str, rows: int, columns: int) -> None:
    """Refuse a fill of more than :data:`MAX_FILL_CROSSINGS` edge crossings."""
    if not count <= MAX_FILL_CROSSINGS:
        raise OsirixError(
            f"ROI {name!r} is too complex to fill: its outline crosses the rows of the {columns} x {rows} plane "
            f"{_count(count)} times, more than the {MAX_FILL_CROSSINGS:,} the embedded OsiriX computes "
            "- use fewer points"
        )


def check_texture(rows: int, columns: int, plane_rows: int, plane_columns: int, prefix: str) -> None:
    """Refuse a brush buffer larger than the plane it is drawn on (before it is read)."""
    if rows > plane_rows or columns > plane_columns:
        raise OsirixError(
            f"{prefix}: the brush buffer is {columns} x {rows} pixels, larger than the "
            f"{plane_columns} x {plane_rows} plane - give a buffer no larger than the plane"
        )


def _count(value: float) -> str:
    return f"{int(value):,}" if value < 1e18 else f"{value:.3g}"

"""Editing an ROI after it is drawn, over OsiriXgrpc: move, reshape, resize, rename, recolour.

Only the plugin's RPCs are used, so a real OsiriX is edited the same way. OsiriX's ``-setPoints:``
ignores the ROIs defined by a rectangle (rectangle, oval, 2D point, text, oval angle): those move with
``ROIMove`` and are resized by drawing the same ROI anew in the new rectangle (same name, colour,
opacity, thickness, plane) and deleting the old one, which is what a task then sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from osirixgrpc import roi_pb2, types_pb2, viewercontroller_pb2

from ..errors import OsirixTasksError
from .connection import Connection

__all__ = ["roi_ref", "set_points", "move", "rename", "recolour", "redraw_in_rect", "NAME_LIMIT"]

#: The longest ROI name the page sends (OsiriX's name field is free text; ours stays readable).
NAME_LIMIT = 256


def roi_ref(uid: str) -> Any:
    """The protocol reference of an ROI uid."""
    return types_pb2.ROI(osirixrpc_uid=uid)


def _finite(values: Sequence[float], what: str) -> list[float]:
    out = [float(v) for v in values]
    if not all(math.isfinite(v) for v in out):
        raise OsirixTasksError(f"{what} must be finite numbers, got {list(values)!r}")
    return out


def set_points(connection: Connection, uid: str, points: Sequence[Sequence[float]]) -> None:
    """Replace the points of a point-defined ROI (polygon, pencil, line, arrow, angle...)."""
    if not points:
        raise OsirixTasksError("points: give at least one [x, y] point")
    request = roi_pb2.ROISetPointsRequest(roi=roi_ref(uid))
    for point in points:
        if len(point) != 2:
            raise OsirixTasksError(f"points: each point is [x, y], got {point!r}")
        x, y = _finite(point, "points")
        request.points.add(x=x, y=y)
    connection.call("ROISetPoints", request)


def move(connection: Connection, uid: str, columns: float, rows: float) -> None:
    """Shift an ROI by ``columns`` x ``rows`` pixels (``ROIMove``)."""
    dx, dy = _finite([columns, rows], "move")
    connection.call("ROIMove", roi_pb2.ROIMoveRequest(roi=roi_ref(uid), columns=dx, rows=dy))


def rename(connection: Connection, uid: str, name: str) -> None:
    """Give an ROI a new name (``ROISetName``)."""
    name = str(name)
    if len(name) > NAME_LIMIT:
        raise OsirixTasksError(f"name: at most {NAME_LIMIT} characters, got {len(name)}")
    connection.call("ROISetName", roi_pb2.ROISetNameRequest(roi=roi_ref(uid), name=name))


def recolour(connection: Connection, uid: str, colour: Sequence[int]) -> None:
    """Give an ROI a new colour, 0-255 per channel (``ROISetColor``)."""
    if len(colour) != 3 or not all(isinstance(c, int | float) and 0 <= c <= 255 for c in colour):
        raise OsirixTasksError(f"color: three numbers 0-255 (red, green, blue), got {list(colour)!r}")
    r, g, b = (int(c) for c in colour)
    connection.call("ROISetColor", roi_pb2.ROISetColorRequest(roi=roi_ref(uid), r=r, g=g, b=b))


def redraw_in_rect(
    connection: Connection,
    viewer_uid: str,
    uid: str,
    *,
    frame: int,
    index: int,
    rect: Sequence[float],
) -> Any:
    """Draw the ROI ``uid`` again in ``rect`` as ``ViewerControllerNewROI`` takes it (a rectangle: x, y,
    width, height; an oval: centre and radii, as OsiriX keeps ``tOval``) on the same plane with the
    same name, type, colour, opacity and thickness, then delete the old one.

    Returns the new ROI's reference."""
    x, y, width, height = _finite(rect, "rect")
    if width <= 0 or height <= 0:
        raise OsirixTasksError(f"rect: width and height must be positive, got {width} x {height}")
    old = roi_ref(uid)
    colour = connection.call("ROIColor", old)
    kind = viewercontroller_pb2.ViewerControllerNewROIRequest
    request = kind(
        viewer_controller=types_pb2.ViewerController(osirixrpc_uid=viewer_uid),
        itype=connection.call("ROIIType", old).itype,
        name=connection.call("ROIName", old).name,
        idx=index,
        movie_idx=frame,
        thickness=connection.call("ROIThickness", old).thickness,
        opacity=connection.call("ROIOpacity", old).opacity,
    )
    request.color.CopyFrom(kind.Color(r=colour.r, g=colour.g, b=colour.b))
    request.rectangle.CopyFrom(kind.Rect(origin_x=x, origin_y=y, width=width, height=height))
    new = connection.call("ViewerControllerNewROI", request).roi
    connection.call("ROIDelete", old)
    return new

"""What a user does in OsiriX's browser and viewers, done over OsiriXgrpc: importing files, opening a
series, ROIs (draw, delete; listing them is :mod:`.roi_listing`) and 3D windows.

Works against any OsiriX (real or embedded): only the plugin's RPCs are used. Selecting ROIs
has no RPC (it is a click in OsiriX); the embedded OsiriX takes it on its control channel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from osirixgrpc import browsercontroller_pb2, types_pb2, utilities_pb2, viewercontroller_pb2

from ..errors import OsirixError, OsirixTasksError
from ..vocabulary import (
    DEFAULT_ROI_COLOR,
    NEW_ROI_OPACITY,
    NEW_ROI_THICKNESS,
    RENDERING_MODES,
    ROI_KINDS,
    roi_type,
)
from .connection import Connection

__all__ = [
    "frontmost_viewer",
    "open_series",
    "import_files",
    "pix_list",
    "open_3d",
    "new_roi",
    "add_roi",
    "check_roi_shape",
    "delete_roi",
    "delete_rois",
]

_EMPTY = utilities_pb2.Empty()
_NewROI = viewercontroller_pb2.ViewerControllerNewROIRequest


def frontmost_viewer(connection: Connection) -> Any:
    """The frontmost 2D viewer's reference; OsirixTasksError saying how to open one otherwise."""
    try:
        return connection.call("OsirixFrontmostViewer", _EMPTY).viewer_controller
    except OsirixError:
        raise OsirixTasksError(
            f"no 2D viewer is open in the OsiriX at {connection.address} - open a series first "
            "(in OsiriX: double-click it; embedded OsiriX: 'osirix-tasks open SERIES_UID')"
        ) from None


def open_series(connection: Connection, series: Any = None) -> Any:
    """Open a 2D viewer on a series (a DicomSeries reference; default: the first series of the first
    study), as a double-click in the browser does; returns its ViewerController reference."""
    browser = connection.call("OsirixCurrentBrowser", _EMPTY).browser_controller
    if series is None:
        studies = connection.call("BrowserControllerDatabaseStudies", browser).studies
        if not studies:
            raise OsirixTasksError(f"the OsiriX at {connection.address} has no study to open - import one first")
        series = connection.call("DicomStudySeries", studies[0]).series[0]
    images = connection.call("DicomSeriesSortedImages", series).sorted_images
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest
    frames = [request.FrameImages(images=images)]
    return connection.call("BrowserControllerOpenViewerFromImages", request(browser=browser, frames=frames)).viewer


def import_files(connection: Connection, paths: list[str]) -> None:
    """Copy files into the database, as OsiriX's import does (in the background: studies appear shortly)."""
    browser = connection.call("OsirixCurrentBrowser", _EMPTY).browser_controller
    request = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(browser=browser, paths=paths)
    connection.call("BrowserControllerCopyFilesIfNeeded", request)


def pix_list(connection: Connection, viewer: Any, movie_idx: int = 0) -> list[Any]:
    """The DCMPix references of one frame of a viewer, in plane order."""
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=movie_idx)
    return list(connection.call("ViewerControllerPixList", request).pix)


def open_3d(connection: Connection, mode: str, viewer: Any = None) -> Any:
    """Open a 3D window (``VR`` or ``MIP``) on a viewer (the frontmost by default); its reference."""
    if mode not in RENDERING_MODES:
        raise OsirixTasksError(f"3D mode {mode!r} is not one OsiriX opens - use VR or MIP")
    viewer = viewer if viewer is not None else frontmost_viewer(connection)
    request = viewercontroller_pb2.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=viewer, mode=mode)
    return connection.call("ViewerControllerOpenVRViewerForMode", request).vr_controller


def _frames(connection: Connection, viewer: Any) -> int:
    return int(connection.call("ViewerControllerMaxMovieIdx", viewer).max_movie_idx)


def _current_frame(connection: Connection, viewer: Any) -> int:
    return int(connection.call("ViewerControllerMovieIdx", viewer).movie_idx)


def _rois_by_slice(connection: Connection, viewer: Any, frame: int) -> list[list[Any]]:
    request = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=frame)
    return [list(s.rois) for s in connection.call("ViewerControllerROIList", request).roi_slices]


def _check_box(kind: str, box: Sequence[float] | None) -> tuple[float, float, float, float]:
    if box is None:
        raise OsirixTasksError(f"a {kind} ROI needs --box X Y WIDTH HEIGHT (pixels, top-left corner)")
    x, y, width, height = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x, y, width, height)) or width <= 0 or height <= 0:
        raise OsirixTasksError(f"--box {x:g} {y:g} {width:g} {height:g}: width and height must be positive numbers")
    return x, y, width, height


def _shape(request: Any, kind: str, box: Any, points: Sequence[Sequence[float]], mask: Any) -> None:
    """Fill the request's geometry for ``kind``, as the plugin reads it for that tool."""
    if kind in ("oval", "rectangle"):
        x, y, width, height = _check_box(kind, box)
        if kind == "oval":  # OsiriX's oval rectangle is its centre and half-axes
            x, y, width, height = x + width / 2, y + height / 2, width / 2, height / 2
        request.rectangle.CopyFrom(_NewROI.Rect(origin_x=x, origin_y=y, width=width, height=height))
    elif kind == "point":
        if len(points) != 1:
            raise OsirixTasksError(f"a point ROI needs exactly one --point X Y, got {len(points)}")
        x, y = points[0]
        request.rectangle.CopyFrom(_NewROI.Rect(origin_x=x, origin_y=y, width=0, height=0))
    elif kind == "polygon":
        if len(points) < 3:
            raise OsirixTasksError(f"a polygon ROI needs at least 3 --point X Y, got {len(points)}")
        request.points.extend(_NewROI.Point2D(x=float(x), y=float(y)) for x, y in points)
    elif kind == "mask":
        if mask is None:
            x, y, width, height = _check_box(kind, box)
            rows, columns = round(height), round(width)
            values = [True] * (rows * columns)
            left, top = round(x), round(y)
        else:
            import numpy as np

            array = np.asarray(mask)
            if array.ndim != 2 or array.size == 0:
                raise OsirixTasksError(f"a mask must be a 2D array of 0/1 values, got shape {array.shape}")
            rows, columns = array.shape
            values = [bool(v) for v in array.ravel()]
            left, top = (round(box[0]), round(box[1])) if box is not None else (0, 0)
        request.buffer.CopyFrom(_NewROI.Buffer(buffer=values, rows=rows, columns=columns))
        request.buffer_position_x, request.buffer_position_y = left, top
    else:
        raise OsirixTasksError(f"ROI kind {kind!r} is not one of {', '.join(ROI_KINDS)}")


def check_roi_shape(kind: str, box: Sequence[float] | None, points: Sequence[Sequence[float]], mask: Any) -> None:
    """OsirixTasksError when ``add_roi`` could not draw an ROI of ``kind`` with this geometry (checked
    where OsiriX is not at hand: a batch item on a remote worker)."""
    _shape(_NewROI(), kind, box, points, mask)


def new_roi(
    connection: Connection,
    viewer: Any,
    itype: int,
    *,
    name: str,
    slice: int,
    frame: int,
    points: Sequence[Sequence[float]] = (),
    rect: Sequence[float] | None = None,
    color: Sequence[int] = DEFAULT_ROI_COLOR,
) -> Any:
    """Create an ROI of type ``itype`` on a plane, from its geometry as OsiriX takes it (``points`` for
    the points types, ``rect`` = origin x, y, width, height for the rectangle types: an oval's is its
    centre and half-axes); its reference. Colour, opacity and thickness are always sent
    (:data:`~osirix_tasks.vocabulary.NEW_ROI_THICKNESS` ...): the plugin takes unset fields as 0."""
    kind = roi_type(itype)
    if kind is None or kind.shape == "buffer":
        raise OsirixTasksError(f"ROI type {itype} is not one drawn from points or a rectangle")
    request = _NewROI(viewer_controller=viewer, itype=itype, name=name, idx=slice, movie_idx=frame)
    if kind.shape == "rectangle":
        if rect is None or len(rect) != 4:
            raise OsirixTasksError(f"a {kind.label} ROI needs a rectangle: x, y, width, height")
        x, y, width, height = (float(v) for v in rect)
        request.rectangle.CopyFrom(_NewROI.Rect(origin_x=x, origin_y=y, width=width, height=height))
    else:
        request.points.extend(_NewROI.Point2D(x=float(x), y=float(y)) for x, y in points)
    return _send_new_roi(connection, request, color)


def _send_new_roi(connection: Connection, request: Any, color: Sequence[int]) -> Any:
    r, g, b = (int(c) for c in color)
    request.color.CopyFrom(_NewROI.Color(r=r, g=g, b=b))
    request.opacity, request.thickness = NEW_ROI_OPACITY, NEW_ROI_THICKNESS
    return connection.call("ViewerControllerNewROI", request).roi


def add_roi(
    connection: Connection,
    kind: str,
    *,
    name: str,
    box: Sequence[float] | None = None,
    points: Sequence[Sequence[float]] = (),
    mask: Any = None,
    slice: int | None = None,
    frame: int | None = None,
    color: tuple[int, int, int] = DEFAULT_ROI_COLOR,
    viewer: Any = None,
) -> Any:
    """Draw an ROI on a viewer (the frontmost by default) and return its reference.

    ``kind`` is one of :data:`~osirix_tasks.vocabulary.ROI_KINDS`. ``box`` (x, y, width, height of the
    top-left corner, in pixels) shapes ovals, rectangles and filled masks; ``points`` ((x, y) pairs:
    x = column, y = row) shapes polygons and the point; ``mask`` is a 2D 0/1 array placed at ``box``'s
    corner. ``slice`` and ``frame`` default to the displayed ones.
    """
    if kind not in ROI_KINDS:
        raise OsirixTasksError(f"ROI kind {kind!r} is not one of {', '.join(ROI_KINDS)}")
    viewer = viewer if viewer is not None else frontmost_viewer(connection)
    if slice is None:
        slice = int(connection.call("ViewerControllerIdx", viewer).idx)
    if frame is None:
        frame = _current_frame(connection, viewer)
    request = _NewROI(viewer_controller=viewer, itype=ROI_KINDS[kind], name=name, idx=slice, movie_idx=frame)
    _shape(request, kind, box, points, mask)
    return _send_new_roi(connection, request, color)


def delete_roi(connection: Connection, uid: str) -> None:
    """Delete one ROI by its uid."""
    connection.call("ROIDelete", types_pb2.ROI(osirixrpc_uid=uid))


def delete_rois(
    connection: Connection, name: str | None = None, *, everything: bool = False, viewer: Any = None
) -> int:
    """Delete ROIs of a viewer (the frontmost by default): those named ``name`` in every frame, all of
    them with ``everything``, else the selected ones (OsiriX's Delete key). Returns how many."""
    viewer = viewer if viewer is not None else frontmost_viewer(connection)
    if everything:
        frames = range(_frames(connection, viewer))
        doomed = [r for f in frames for plane in _rois_by_slice(connection, viewer, f) for r in plane]
    elif name is not None:
        request = viewercontroller_pb2.ViewerControllerROIsWithNameRequest(
            viewer_controller=viewer, name=name, movie_idx=0, in_4d=True
        )
        doomed = list(connection.call("ViewerControllerROIsWithName", request).rois)
    else:
        doomed = list(connection.call("ViewerControllerSelectedROIs", viewer).rois)
    for roi in doomed:
        connection.call("ROIDelete", roi)
    return len(doomed)

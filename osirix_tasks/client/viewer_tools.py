"""What a user does in OsiriX's viewers, done over OsiriXgrpc: opening a series, ROIs (list, draw,
delete) and 3D windows.

Works against any OsiriX (real or embedded): only the plugin's RPCs are used. Selecting ROIs
has no RPC (it is a click in OsiriX); the embedded OsiriX takes it on its control channel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from osirixgrpc import browsercontroller_pb2, utilities_pb2, viewercontroller_pb2

from ..errors import OsirixError, OsirixTasksError
from .connection import Connection

__all__ = [
    "DEFAULT_ROI_COLOR",
    "ROI_KINDS",
    "ROI_TYPE_NAMES",
    "RENDERING_MODES",
    "RoiInfo",
    "frontmost_viewer",
    "open_series",
    "pix_list",
    "open_3d",
    "list_rois",
    "add_roi",
    "delete_rois",
]

_EMPTY = utilities_pb2.Empty()
_NewROI = viewercontroller_pb2.ViewerControllerNewROIRequest

#: The ROI kinds ``osirix-tasks roi add`` draws, and OsiriX's tool number of each.
ROI_KINDS = {"oval": 9, "rectangle": 6, "polygon": 11, "point": 19, "mask": 20}
#: OsiriX's ROI tool numbers and what OsiriX calls them.
ROI_TYPE_NAMES = {
    5: "measure",
    6: "rectangle",
    9: "oval",
    10: "open polygon",
    11: "closed polygon",
    12: "angle",
    13: "text",
    14: "arrow",
    15: "pencil",
    19: "point",
    20: "mask",
    24: "layer",
    26: "axis",
    27: "dynamic angle",
    29: "TAGT",
    31: "oval angle",
}
#: The 3D windows a 2D viewer opens (``ViewerControllerOpenVRViewerForMode``).
RENDERING_MODES = ("VR", "MIP")


@dataclass
class RoiInfo:
    """One ROI of a viewer."""

    name: str
    type: str
    itype: int
    slice: int
    frame: int
    selected: bool
    area_cm2: float
    centroid: tuple[float, float]
    uid: str
    ref: Any = field(repr=False, compare=False, default=None)

    def to_json(self) -> dict[str, Any]:
        """Plain data (without the object reference)."""
        data = {k: v for k, v in vars(self).items() if k != "ref"}
        data["centroid"] = list(self.centroid)
        return data


#: The colour of an ROI drawn without one. The plugin passes the request's colour as given, so an unset
#: colour is black, which is invisible on most images: our tools always send this one instead.
DEFAULT_ROI_COLOR = (0, 255, 0)


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


def list_rois(connection: Connection, viewer: Any = None) -> list[RoiInfo]:
    """The ROIs of a viewer's current frame (the frontmost viewer by default), slice by slice."""
    viewer = viewer if viewer is not None else frontmost_viewer(connection)
    frame = _current_frame(connection, viewer)
    selected = {r.osirixrpc_uid for r in connection.call("ViewerControllerSelectedROIs", viewer).rois}
    found = []
    for index, rois in enumerate(_rois_by_slice(connection, viewer, frame)):
        for roi in rois:
            itype = int(connection.call("ROIIType", roi).itype)
            centroid = connection.call("ROICentroid", roi)
            found.append(
                RoiInfo(
                    name=connection.call("ROIName", roi).name,
                    type=ROI_TYPE_NAMES.get(itype, f"type {itype}"),
                    itype=itype,
                    slice=index,
                    frame=frame,
                    selected=roi.osirixrpc_uid in selected,
                    area_cm2=float(connection.call("ROIArea", roi).area),
                    centroid=(float(centroid.x), float(centroid.y)),
                    uid=roi.osirixrpc_uid,
                    ref=roi,
                )
            )
    return found


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

    ``kind`` is one of :data:`ROI_KINDS`. ``box`` (x, y, width, height of the top-left corner, in
    pixels) shapes ovals, rectangles and filled masks; ``points`` ((x, y) pairs: x = column,
    y = row) shapes polygons and the point; ``mask`` is a 2D 0/1 array placed at ``box``'s corner.
    ``slice`` and ``frame`` default to the displayed ones. Colour, opacity (1) and thickness (1) are
    always sent: the plugin takes unset fields as 0 (a black, invisible ROI).
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
    request.color.CopyFrom(_NewROI.Color(r=color[0], g=color[1], b=color[2]))
    request.opacity, request.thickness = 1.0, 1.0
    return connection.call("ViewerControllerNewROI", request).roi


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

"""A viewer's ROIs with what OsiriX says of each: the listing of ``osirix-tasks roi list``, the test
kit and the page (which also draws them: colour, points, statistics, a brush's mask).

Works against any OsiriX: only the plugin's RPCs are used. The protocol has one call per property,
so the calls of a listing are sent together, wave by wave (:meth:`Connection.call_many`): the
viewer's frame and selection, its ROI list and planes, every property of every ROI, the means and
the masks of brush ROIs. A listing costs a few round trips' wait, however many ROIs there are.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

from osirixgrpc import dcmpix_pb2, viewercontroller_pb2

from ..errors import OsirixError
from ..vocabulary import RoiCode, roi_label, roi_type
from .connection import Connection

__all__ = ["RoiInfo", "list_rois"]

_VC = viewercontroller_pb2


@dataclass
class RoiInfo:
    """One ROI of a viewer. ``type`` is what OsiriX calls its kind (:mod:`osirix_tasks.vocabulary`);
    the drawing fields (colour to mask) are filled when the listing asks for them."""

    name: str
    type: str
    itype: int
    slice: int
    frame: int
    selected: bool
    area_cm2: float
    centroid: tuple[float, float]
    uid: str
    color: tuple[int, int, int] | None = None
    opacity: float | None = None
    thickness: float | None = None
    #: ``-points``: the vertices OsiriX reports (x = column, y = row).
    points: list[list[float]] = field(default_factory=list)
    #: Mean of the values inside, for the types that enclose an area (greyscale planes), and OsiriX's
    #: other statistics of them (``DCMPix -computeROI:``: standard deviation, min, max, total); None
    #: where OsiriX has no number (NaN).
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    total: float | None = None
    #: A brush ROI's pixels: rows, columns and the row-major bits (``numpy.packbits``) in base64.
    mask: dict[str, Any] | None = None
    ref: Any = field(repr=False, compare=False, default=None)

    def to_json(self) -> dict[str, Any]:
        """Plain data (without the object reference)."""
        data = {k: v for k, v in vars(self).items() if k != "ref"}
        data["centroid"] = list(self.centroid)
        if self.color is not None:
            data["color"] = list(self.color)
        return data


_PLAIN = ("ROIIType", "ROIName", "ROIArea", "ROICentroid")
_DRAWING = ("ROIColor", "ROIOpacity", "ROIThickness", "ROIPoints")


def _checked(answer: Any) -> Any:
    if isinstance(answer, OsirixError):
        raise answer
    return answer


def _plane_refs(
    connection: Connection, viewer: Any, frame: int | None, plane: int | None
) -> tuple[int, set[str], list[tuple[int, list[Any]]], list[Any]]:
    """The frame, the selected ROI uids, the ROIs per slice (one slice when ``plane`` is given), the planes."""
    first = connection.call_many([("ViewerControllerMovieIdx", viewer), ("ViewerControllerSelectedROIs", viewer)])
    frame = int(_checked(first[0]).movie_idx) if frame is None else frame
    selected = {r.osirixrpc_uid for r in _checked(first[1]).rois}
    listing, planes = connection.call_many(
        [
            ("ViewerControllerROIList", _VC.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=frame)),
            ("ViewerControllerPixList", _VC.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=frame)),
        ]
    )
    slices = [(index, list(s.rois)) for index, s in enumerate(_checked(listing).roi_slices)]
    if plane is not None:
        slices = [(index, rois) for index, rois in slices if index == plane]
    return frame, selected, slices, list(_checked(planes).pix)


def list_rois(
    connection: Connection,
    viewer: Any = None,
    *,
    frame: int | None = None,
    plane: int | None = None,
    drawing: bool = False,
) -> list[RoiInfo]:
    """The ROIs of one frame of a viewer (the frontmost viewer and its displayed frame by default),
    slice by slice, or of one slice (``plane``). ``drawing`` adds what a view needs to draw them."""
    from .viewer_tools import frontmost_viewer

    viewer = viewer if viewer is not None else frontmost_viewer(connection)
    frame, selected, slices, planes = _plane_refs(connection, viewer, frame, plane)
    rpcs = _PLAIN + (_DRAWING if drawing else ())
    placed = [(index, roi) for index, rois in slices for roi in rois]
    answers = connection.call_many([(rpc, roi) for _, roi in placed for rpc in rpcs])
    found = [
        _info(roi, index, frame, selected, answers[n * len(rpcs) : (n + 1) * len(rpcs)])
        for n, (index, roi) in enumerate(placed)
    ]
    if drawing:
        _add_means(connection, found, planes)
        _add_masks(connection, found, planes)
    return found


def _add_means(connection: Connection, found: list[RoiInfo], planes: list[Any]) -> None:
    """The mean inside each ROI of a type that encloses an area (``DCMPixComputeROI`` on its plane)."""
    closed = [info for info in found if (kind := roi_type(info.itype)) is not None and kind.closed]
    closed = [info for info in closed if info.slice < len(planes)]
    answers = connection.call_many(
        [
            ("DCMPixComputeROI", dcmpix_pb2.DCMPixComputeROIRequest(pix=planes[info.slice], roi=info.ref))
            for info in closed
        ]
    )
    for info, answer in zip(closed, answers, strict=True):
        if not isinstance(answer, OsirixError):
            stats = {
                "mean": answer.mean,
                "std": answer.std_dev,
                "min": answer.min,
                "max": answer.max,
                "total": answer.total,
            }
            for name, value in stats.items():
                setattr(info, name, float(value) if math.isfinite(value) else None)


def _info(roi: Any, index: int, frame: int, selected: set[str], answers: list[Any]) -> RoiInfo:
    itype_answer, name, area, centroid = (_checked(a) for a in answers[:4])
    itype = int(itype_answer.itype)
    info = RoiInfo(
        name=name.name,
        type=roi_label(itype),
        itype=itype,
        slice=index,
        frame=frame,
        selected=roi.osirixrpc_uid in selected,
        area_cm2=float(area.area),
        centroid=(float(centroid.x), float(centroid.y)),
        uid=roi.osirixrpc_uid,
        ref=roi,
    )
    if len(answers) > 4:
        color, opacity, thickness, points = (_checked(a) for a in answers[4:])
        info.color = (int(color.r), int(color.g), int(color.b))
        info.opacity = float(opacity.opacity)
        info.thickness = float(thickness.thickness)
        info.points = [[float(p.x), float(p.y)] for p in points.points]
    return info


def _add_masks(connection: Connection, found: list[RoiInfo], planes: list[Any]) -> None:
    """A brush ROI is drawn from its mask (``DCMPixGetMapFromROI``), its points being empty."""
    import numpy as np

    brushes = [info for info in found if info.itype == RoiCode.BRUSH and info.slice < len(planes)]
    maps = connection.call_many(
        [
            ("DCMPixGetMapFromROI", dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=planes[info.slice], roi=info.ref))
            for info in brushes
        ]
    )
    for info, answer in zip(brushes, maps, strict=True):
        if isinstance(answer, OsirixError):
            continue
        bits = np.packbits(np.asarray(answer.map, dtype=bool))
        info.mask = {
            "rows": answer.rows,
            "columns": answer.columns,
            "bits": base64.b64encode(bits.tobytes()).decode("ascii"),
        }

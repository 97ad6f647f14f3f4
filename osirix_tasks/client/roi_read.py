"""A viewer's ROIs read through the OsiriXgrpc protocol as records (:mod:`osirix_tasks.roidicom`),
with the images they lie on: what ``roi export`` and the page's export write. Only protocol calls,
so it works on a real OsiriX too.

What the protocol does not tell is filled as OsiriX's defaults: a text ROI's position (its
``ROIPoints`` are empty: (0, 0)), whether a polygon is splined (yes, OsiriX's preference).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from osirixgrpc import dcmpix_pb2, viewercontroller_pb2

from ..roidicom.masks import texture_from_mask
from ..roidicom.records import AREA_TYPES, LINE_TYPES, PlaneKey, RoiRecord, SourceImage
from ..roidicom.sr import PlaneRois
from ..vocabulary import RoiCode, codes_where
from .connection import Connection

__all__ = ["ViewerRoi", "viewer_planes", "source_of", "inside_mask", "AREA_TYPES"]

#: Types whose shape is OsiriX's ``rect``.
RECT_TYPES = codes_where(shape="rectangle")


@dataclass
class ViewerRoi:
    """One ROI of a viewer: its record, its protocol reference and its plane."""

    record: RoiRecord
    ref: Any
    pix: Any
    slice_index: int


def source_of(connection: Connection, pix: Any, index: int) -> SourceImage:
    """The image a DCMPix shows: its file, SOP instance and frame (matched by position for multi-frame files)."""
    path = connection.call("DCMPixSourceFile", pix).source_file
    image = connection.call("DCMPixDicomImage", pix).dicom_image
    uid = connection.call("DicomImageSOPInstanceUID", image).sop_instance_uid
    frames = connection.call("DicomImageNumberOfFrames", image).number_of_frames
    shape = connection.call("DCMPixShape", pix)
    frame = _frame_of(connection, pix, path) if frames > 1 else 0
    return SourceImage(path, PlaneKey(uid, frame), shape.rows, shape.columns, index)


def _frame_of(connection: Connection, pix: Any, path: str) -> int:
    """The frame of a multi-frame file a DCMPix shows: the one at its origin."""
    from ..roidicom.evidence import source_header

    origin = connection.call("DCMPixOrigin", pix)
    here = np.array([origin.origin_x, origin.origin_y, origin.origin_z])
    best, distance = 0, float("inf")
    for index, group in enumerate(source_header(path).get("PerFrameFunctionalGroupsSequence", []) or []):
        for item in group.get("PlanePositionSequence", []) or []:
            gap = float(np.linalg.norm(np.asarray(item.ImagePositionPatient, dtype=float) - here))
            if gap < distance:
                best, distance = index, gap
    return best


def inside_mask(connection: Connection, pix: Any, roi: Any, rows: int, columns: int) -> np.ndarray:
    """The pixels an ROI covers, as OsiriX computes its statistics (``DCMPixROIValues``)."""
    answer = connection.call("DCMPixROIValues", dcmpix_pb2.DCMPixROIValuesRequest(pix=pix, roi=roi))
    mask = np.zeros((rows, columns), dtype=bool)
    mask[np.asarray(answer.row_indices, dtype=int), np.asarray(answer.column_indices, dtype=int)] = True
    return mask


def _shape(itype: int, points: np.ndarray) -> tuple[float, float, float, float] | None:
    """OsiriX's rect from the outline ``ROIPoints`` answers for a rectangle type."""
    if itype not in RECT_TYPES:
        return None
    if len(points) == 0:
        return (0.0, 0.0, 0.0, 0.0)
    low, high = points.min(axis=0), points.max(axis=0)
    if itype in (RoiCode.OVAL, RoiCode.OVAL_ANGLE):
        centre = (low + high) / 2
        return (float(centre[0]), float(centre[1]), float(high[0] - centre[0]), float(high[1] - centre[1]))
    if itype == RoiCode.RECTANGLE:
        return (float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1]))
    return (float(points[0, 0]), float(points[0, 1]), 0.0, 0.0)  # 2D point, text


def _measurements(connection: Connection, roi: Any, pix: Any, itype: int, record: RoiRecord) -> None:
    if itype in AREA_TYPES:
        record.measurements["area_mm2"] = connection.call("ROIArea", roi).area * 100.0
    if itype in AREA_TYPES or itype == RoiCode.POINT:
        try:
            stats = connection.call("DCMPixComputeROI", dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=roi))
        except Exception:  # an RGB plane has no statistics
            return
        record.measurements.update(mean=stats.mean, std_dev=stats.std_dev, min=stats.min, max=stats.max)
    if itype in LINE_TYPES and len(record.points) >= 2:
        (x0, y0), (x1, y1) = record.points[:2]
        record.measurements["length_mm"] = float(np.hypot((x1 - x0) * record.spacing[0], (y1 - y0) * record.spacing[1]))


def read_roi(connection: Connection, roi: Any, pix: Any, rows: int, columns: int) -> RoiRecord:
    """One ROI as a record, from the protocol."""
    itype = connection.call("ROIIType", roi).itype
    color = connection.call("ROIColor", roi)
    points = np.array([[p.x, p.y] for p in connection.call("ROIPoints", roi).points], dtype=np.float64).reshape(-1, 2)
    spacing = connection.call("DCMPixSpacing", pix)
    record = RoiRecord(
        itype=itype,
        name=connection.call("ROIName", roi).name,
        color=(int(color.r), int(color.g), int(color.b)),
        opacity=float(connection.call("ROIOpacity", roi).opacity),
        thickness=float(connection.call("ROIThickness", roi).thickness),
        rect=_shape(itype, points),
        points=points if itype not in RECT_TYPES and itype != RoiCode.BRUSH else np.zeros((0, 2)),
        spacing=(float(spacing.spacing_columns), float(spacing.spacing_rows)),
        spline=itype != RoiCode.BRUSH,
    )
    if itype == RoiCode.BRUSH:
        answer = connection.call("DCMPixGetMapFromROI", dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=pix, roi=roi))
        mask = np.asarray(answer.map, dtype=bool).reshape(answer.rows, answer.columns)
        placed = texture_from_mask(mask)
        if placed is not None:
            record.texture, record.texture_origin = placed
    if itype == RoiCode.TEXT:
        record.rect = (0.0, 0.0, 0.0, 0.0)
    _measurements(connection, roi, pix, itype, record)
    return record


def viewer_planes(connection: Connection, viewer: Any, movie_idx: int = 0) -> tuple[list[PlaneRois], list[ViewerRoi]]:
    """The planes of one movie frame of ``viewer`` that have ROIs (with their sources), and every ROI."""
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=movie_idx)
    pixes = list(connection.call("ViewerControllerPixList", request).pix)
    listing = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=movie_idx)
    slices = connection.call("ViewerControllerROIList", listing).roi_slices
    planes: list[PlaneRois] = []
    rois: list[ViewerRoi] = []
    for index, (pix, plane) in enumerate(zip(pixes, slices, strict=False)):
        if not plane.rois:
            continue
        source = source_of(connection, pix, index)
        records = []
        for roi in plane.rois:
            record = read_roi(connection, roi, pix, source.rows, source.columns)
            records.append(record)
            rois.append(ViewerRoi(record, roi, pix, index))
        planes.append(PlaneRois(source, records))
    return planes, rois

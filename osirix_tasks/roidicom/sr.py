"""Geometric ROIs as DICOM measurement reports (TID 1500), written with highdicom, and read back.

Each ROI is one planar ROI measurement group (TID 1410): its tracking identifier is the ROI's
name, its tracking UID the ROI's, its image region the shape on the image it was drawn on, its
measurements what OsiriX shows (area, mean, standard deviation, minimum, maximum, length). A brush
ROI's group (TID 1411) references its segment in the SEG written beside the report. What the standard
content cannot hold exactly (OsiriX's ROI type, the spline, rectangle vs polygon, colour,
thickness, opacity, a text ROI's text) is kept in our private block (:mod:`.private`), so we
restore every ROI exactly; other tools see the standard content:

=====================  =============================================================
OsiriX ROI             standard content
=====================  =============================================================
oval (9), oval angle   ELLIPSE (axis end points)
rectangle (6)          closed POLYLINE (4 corners)
closed polygon (11),   closed POLYLINE through the vertices (OsiriX measures the spline
pencil (15)            through them: other tools see the polygon, not the curve)
2D point (19), text    POINT (a text ROI's text only in the private block)
brush (20)             a reference to its segment in the SEG
any other              open POLYLINE through its points (lines, arrows, angles ...)
=====================  =============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from ..vocabulary import RoiCode
from .private import read_document, write_document
from .records import DEFAULT_COLOR, PlaneKey, RoiRecord, SourceImage

__all__ = ["PlaneRois", "MaskLink", "SrContent", "build_sr", "read_sr", "region_of", "SR_SOP_CLASSES"]

#: Comprehensive 3D SR and the other SR classes a TID 1500 report may come in.
SR_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive 3D SR",
    "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR",
    "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR",
}
_CLOSED = (RoiCode.CLOSED_POLYGON, RoiCode.PENCIL)


@dataclass
class PlaneRois:
    """The ROIs of one image plane, in the viewer's order, and where they came from."""

    source: SourceImage
    rois: list[RoiRecord]
    imported_from: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MaskLink:
    """Where a brush ROI's mask is: segment ``segment`` of the SEG ``seg_uid``."""

    seg_uid: str
    segment: int
    shape: tuple[int, int] | None = None  # the texture's (rows, columns) when it was stored


@dataclass
class SrContent:
    """What a report holds: ROIs by plane (masks still to be read from their SEG), and whether they
    were restored exactly (from our private block) or approximately (from the standard content)."""

    sop_instance_uid: str
    planes: dict[PlaneKey, list[RoiRecord]] = field(default_factory=dict)
    masks: dict[int, MaskLink] = field(default_factory=dict)  # id(record) -> its mask
    imported_from: dict[PlaneKey, list[str]] = field(default_factory=dict)
    exact: bool = True
    skipped: int = 0  # measurement groups we cannot show as ROIs


def _ellipse(rect: tuple[float, float, float, float]) -> np.ndarray:
    cx, cy, rx, ry = rect
    rx, ry = abs(rx), abs(ry)
    horizontal = np.array([[cx - rx, cy], [cx + rx, cy]])
    vertical = np.array([[cx, cy - ry], [cx, cy + ry]])
    return np.vstack([horizontal, vertical] if rx >= ry else [vertical, horizontal])


def region_of(record: RoiRecord) -> tuple[str, np.ndarray] | None:
    """The SCOORD graphic type and data (x, y pixels) standing for an ROI; None for a brush ROI."""
    if record.is_mask:
        return None
    rect = record.rect
    if rect is not None and record.itype in (RoiCode.OVAL, RoiCode.OVAL_ANGLE):
        return "ELLIPSE", _ellipse(rect)
    if rect is not None and record.itype == RoiCode.RECTANGLE:
        x, y, w, h = rect
        return "POLYLINE", np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]])
    if rect is not None and record.itype in (RoiCode.POINT, RoiCode.TEXT):
        x, y, w, h = rect
        return "POINT", np.array([[min(x, x + w), min(y, y + h)]])
    points = np.asarray(record.points, dtype=np.float64).reshape(-1, 2)
    if len(points) == 0:
        return None
    if len(points) == 1:
        return "POINT", points
    if record.itype in _CLOSED and len(points) >= 3:
        return "POLYLINE", np.vstack([points, points[:1]])
    return "POLYLINE", points


def _units(modality: str) -> Any:
    from pydicom.sr.codedict import codes

    return codes.UCUM.HounsfieldUnit if modality == "CT" else codes.UCUM.NoUnits


_MEASURES = (
    ("area_mm2", "Area", "area"),
    ("mean", "Mean", "value"),
    ("std_dev", "StandardDeviation", "value"),
    ("min", "Minimum", "value"),
    ("max", "Maximum", "value"),
    ("length_mm", "Length", "length"),
)


_PROCEDURES = {
    "CT": "CTUnspecifiedBodyRegion",
    "MR": "MRIUnspecifiedBodyRegion",
    "PT": "PETUnspecifiedBodyRegion",
    "NM": "NMUnspecifiedBodyRegion",
    "CR": "XRUnspecifiedBodyRegion",
    "DX": "XRUnspecifiedBodyRegion",
    "XA": "Angiography",
}


def _procedure(modality: str) -> Any:
    """The procedure reported (CID 100) for the images' modality."""
    from pydicom.sr.codedict import codes

    return getattr(codes.cid100, _PROCEDURES.get(modality, "ImagingProcedure"))


def _measurements(record: RoiRecord, modality: str) -> list[Any]:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    units = {"area": codes.UCUM.SquareMillimeter, "length": codes.UCUM.Millimeter, "value": _units(modality)}
    found = []
    for key, code, unit in _MEASURES:
        value = record.measurements.get(key)
        if value is not None and np.isfinite(value):
            found.append(hd.sr.Measurement(getattr(codes.SCT, code), float(value), units[unit]))
    return found


def _group(record: RoiRecord, header: Dataset, key: PlaneKey, mask: tuple[Dataset, int] | None) -> Any:
    """The measurement group of one ROI (None when it has no shape to show)."""
    import highdicom as hd

    frames = [key.frame + 1] if int(header.get("NumberOfFrames", 1) or 1) > 1 else None
    tracking = hd.sr.TrackingIdentifier(uid=record.tracking_uid or hd.UID(), identifier=(record.name or "ROI")[:64])
    measurements = _measurements(record, str(header.get("Modality", ""))) or None
    if mask is not None:
        # TID 1411 with the whole segment (it lies on this one image): TID 1410's segmentation frame
        # reference carries both a frame and a segment number, which PS3.3 forbids together.
        seg, number = mask
        segment = hd.sr.ReferencedSegment(
            sop_class_uid=seg.SOPClassUID,
            sop_instance_uid=seg.SOPInstanceUID,
            segment_number=number,
            source_images=[hd.sr.SourceImageForSegmentation(header.SOPClassUID, header.SOPInstanceUID, frames)],
        )
        return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking, referenced_segment=segment, measurements=measurements
        )
    shape = region_of(record)
    if shape is None:
        return None
    source = hd.sr.SourceImageForRegion(header.SOPClassUID, header.SOPInstanceUID, frames)
    return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=tracking,
        referenced_region=hd.sr.ImageRegion(shape[0], np.maximum(shape[1], 0.0), source),
        measurements=measurements,
    )


def build_sr(
    planes: Sequence[PlaneRois],
    headers: dict[PlaneKey, Dataset],
    *,
    series_uid: str,
    series_number: int,
    instance_number: int = 1,
    series_description: str = "",
    seg: Dataset | None = None,
    segments: dict[int, int] | None = None,
) -> Dataset:
    """A TID 1500 report of the ROIs of ``planes`` (``headers``: each plane's source header), with our
    private block. Brush ROIs reference ``seg``: ``segments`` maps id(record) to its segment number."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    segments = segments or {}
    groups = []
    document_planes = []
    for plane in planes:
        header = headers[plane.source.key]
        rois = []
        for record in plane.rois:
            number = segments.get(id(record))
            link = (seg, number) if seg is not None and number is not None else None
            group = _group(record, header, plane.source.key, link)
            if group is not None:
                groups.append(group)
            entry = record.to_json()
            if link is not None:
                entry.update(seg=str(seg.SOPInstanceUID), segment=number)  # type: ignore[union-attr]
            rois.append(entry)
        document_planes.append(
            {
                "sop": plane.source.key.sop_instance_uid,
                "frame": plane.source.key.frame,
                "rois": rois,
                "imported_from": plane.imported_from,
            }
        )
    observer = hd.sr.ObserverContext(
        observer_type=codes.cid270.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(uid=hd.UID(), name="osirix-tasks"),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=_procedure(str(headers[planes[0].source.key].get("Modality", "")) if planes else ""),
        imaging_measurements=groups or None,
        title=codes.cid7021.ImagingMeasurementReport,
    )
    evidence = [headers[p.source.key] for p in planes] + ([seg] if seg is not None else [])
    unique = list({str(ds.SOPInstanceUID): ds for ds in evidence}.values())
    sr = hd.sr.Comprehensive3DSR(
        evidence=unique,
        content=report,
        series_instance_uid=series_uid,
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=instance_number,
        manufacturer="osirix-tasks",
        series_description=series_description[:64] if series_description else None,
    )
    write_document(sr, {"planes": document_planes})
    return sr


# --- reading --------------------------------------------------------------------------------


def _exact(ds: Dataset, document: dict[str, Any]) -> SrContent:
    content = SrContent(str(ds.SOPInstanceUID))
    for plane in document["planes"]:
        try:
            key = PlaneKey(str(plane["sop"]), int(plane.get("frame", 0)))
            entries = list(plane.get("rois") or [])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"private ROI document: a plane without 'sop' ({exc})") from None
        records = content.planes.setdefault(key, [])
        for entry in entries:
            record = RoiRecord.from_json(entry)
            records.append(record)
            if entry.get("seg"):
                shape = entry.get("texture_shape")
                size = (int(shape[0]), int(shape[1])) if shape else None
                content.masks[id(record)] = MaskLink(str(entry["seg"]), int(entry.get("segment", 0)), size)
        content.imported_from.setdefault(key, []).extend(str(u) for u in plane.get("imported_from") or [])
    return content


def _source_key(scoord: Any) -> PlaneKey | None:
    for item in getattr(scoord, "ContentSequence", []) or []:
        for ref in item.get("ReferencedSOPSequence", []) or []:
            frames = ref.get("ReferencedFrameNumber")
            frame = int(frames[0] if isinstance(frames, list | tuple) else frames) - 1 if frames else 0
            return PlaneKey(str(ref.ReferencedSOPInstanceUID), max(frame, 0))
    return None


def record_of_region(graphic_type: str, data: np.ndarray, name: str, uid: str) -> list[RoiRecord]:
    """The ROIs OsiriX would show for a SCOORD drawn by another tool (no spline: their shape as given)."""
    data = np.asarray(data, dtype=np.float64).reshape(-1, 2)
    base: dict[str, Any] = {"name": name, "color": DEFAULT_COLOR, "tracking_uid": uid, "spline": False}
    if graphic_type == "POINT" or (graphic_type == "MULTIPOINT" and len(data) == 1):
        return [RoiRecord(RoiCode.POINT, rect=(float(data[0, 0]), float(data[0, 1]), 0.0, 0.0), **base)]
    if graphic_type == "MULTIPOINT":
        return [RoiRecord(RoiCode.POINT, rect=(float(x), float(y), 0.0, 0.0), **base) for x, y in data]
    if graphic_type == "CIRCLE" and len(data) == 2:
        radius = float(np.hypot(*(data[1] - data[0])))
        return [RoiRecord(RoiCode.OVAL, rect=(float(data[0, 0]), float(data[0, 1]), radius, radius), **base)]
    if graphic_type == "ELLIPSE" and len(data) == 4:
        return [_ellipse_record(data, base)]
    closed = len(data) >= 4 and np.allclose(data[0], data[-1])
    if closed:
        return [RoiRecord(RoiCode.CLOSED_POLYGON, points=data[:-1], **base)]
    if len(data) == 2:
        return [RoiRecord(RoiCode.MEASURE, points=data, **base)]
    return [RoiRecord(RoiCode.OPEN_POLYGON if len(data) >= 3 else RoiCode.POINT, points=data, **base)]


def _ellipse_record(data: np.ndarray, base: dict[str, Any]) -> RoiRecord:
    """An oval when the axes are the image axes, else a closed polygon around the ellipse."""
    centre = data.mean(axis=0)
    major, minor = data[1] - data[0], data[3] - data[2]
    if abs(major[1]) < 1e-6 and abs(minor[0]) < 1e-6 or abs(major[0]) < 1e-6 and abs(minor[1]) < 1e-6:
        half_x = max(abs(major[0]), abs(minor[0])) / 2
        half_y = max(abs(major[1]), abs(minor[1])) / 2
        return RoiRecord(RoiCode.OVAL, rect=(float(centre[0]), float(centre[1]), float(half_x), float(half_y)), **base)
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    points = centre + np.outer(np.cos(angles), major / 2) + np.outer(np.sin(angles), minor / 2)
    return RoiRecord(RoiCode.CLOSED_POLYGON, points=points, **base)


def _approximate(ds: Dataset) -> SrContent:
    import highdicom as hd

    content = SrContent(str(ds.SOPInstanceUID), exact=False)
    try:
        report = hd.sr.MeasurementReport.from_sequence([ds], copy=False)
    except Exception as exc:
        raise ValueError(f"not a TID 1500 measurement report ({type(exc).__name__}: {exc})") from None
    for group in report.get_planar_roi_measurement_groups():
        scoord = group.roi
        key = _source_key(scoord) if scoord is not None else None
        if scoord is None or key is None or not hasattr(scoord, "GraphicData"):
            content.skipped += 1  # a segment reference (its SEG shows it) or a 3D region
            continue
        name = str(group.tracking_identifier or "") or "ROI"
        records = record_of_region(
            str(scoord.GraphicType), np.asarray(scoord.GraphicData), name, str(group.tracking_uid or "")
        )
        content.planes.setdefault(key, []).extend(records)
    return content


def read_sr(ds: Dataset) -> SrContent:
    """The ROIs a report holds: exactly from our private block when it has one, else from its TID 1500
    planar ROI groups. Raises ValueError for a report we cannot read (naming why)."""
    if str(ds.get("SOPClassUID", "")) not in SR_SOP_CLASSES:
        raise ValueError(f"not a measurement report (SOP class {ds.get('SOPClassUID', 'missing')})")
    document = read_document(ds)
    if document is not None:
        return _exact(ds, document)
    if "ContentSequence" not in ds:
        raise ValueError("a structured report without content")
    return _approximate(ds)

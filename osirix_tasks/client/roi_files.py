"""``roi export`` and ``roi import``: a viewer's ROIs as DICOM (SR, SEG), CSV or JSON, and back.

Everything goes through the protocol (a real OsiriX works too); the DICOM objects are written with
highdicom (:mod:`osirix_tasks.roidicom`). Formats:

- ``sr``: a TID 1500 report of every ROI (exact for us through our private block); when there are
  brush ROIs, a SEG of them beside it (``<name>.seg.dcm``) that the report references;
- ``seg``: a SEG of every ROI that has an inside (brush, polygon, pencil, rectangle, oval), one
  segment per ROI name;
- ``csv``: one row per ROI: name, type, slice (the image number as OsiriX shows it, from 1, as the
  CLI's ``--slice``), image, area, mean, SD, min, max, length, colour, points;
- ``json``: every attribute of every ROI (masks packed in base64), by image.

Importing a file draws its ROIs in the viewer on the images they reference; an SR or SEG is also
handed to OsiriX (``BrowserControllerCopyFilesIfNeeded``) so it stays with the study. A file that
is malformed or references none of the viewer's images is reported (file and reason) and skipped.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from osirixgrpc import browsercontroller_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty
from pydicom.uid import generate_uid

from .._support.private import open_private
from ..errors import OsirixTasksError
from ..roidicom.evidence import source_header
from ..roidicom.masks import plane_mask, texture_from_mask
from ..roidicom.objects import read_object
from ..roidicom.records import DEFAULT_COLOR, PlaneKey, RoiRecord, type_name
from ..roidicom.seg import SEG_SOP_CLASS, SegmentSpec, build_seg, read_seg
from ..roidicom.sr import PlaneRois, build_sr, read_sr
from ..vocabulary import RoiCode
from .connection import Connection
from .roi_read import AREA_TYPES, inside_mask, source_of, viewer_planes

__all__ = ["FORMATS", "export_files", "import_file", "ImportReport", "CSV_COLUMNS"]

FORMATS = ("sr", "seg", "csv", "json")
CSV_COLUMNS = [
    "name", "type", "type_name", "slice", "sop_instance_uid", "frame", "area_mm2", "mean", "std_dev", "min", "max",
    "length_mm", "color", "opacity", "thickness", "rect", "points",
]  # fmt: skip
EXPORT_SERIES_NUMBER = 5100


def _write_private(path: Path, data: bytes) -> Path:
    with os.fdopen(open_private(path), "wb") as handle:
        handle.write(data)
    return path


def _dicom_bytes(ds: pydicom.Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _mask_seg(planes: list[PlaneRois], masks: dict[tuple[int, str], np.ndarray], names: list[str]) -> pydicom.Dataset:
    """A SEG with one segment per name, over the planes that have masks."""
    used = sorted({i for i, _ in masks})
    first = planes[used[0]].source
    layers = np.zeros((len(used), first.rows, first.columns, len(names)), dtype=bool)
    for row, index in enumerate(used):
        for column, name in enumerate(names):
            if (index, name) in masks:
                layers[row, :, :, column] = masks[(index, name)]
    colors = {r.name: r.color for p in planes for r in p.rois}
    headers = [source_header(planes[i].source.path) for i in used]
    for index, header in zip(used, headers, strict=True):
        if not header.get("FrameOfReferenceUID"):
            raise OsirixTasksError(
                f"{planes[index].source.path}: no Frame of Reference UID (0020,0052), which a SEG needs to refer"
                " to the image - export CSV or JSON instead, or give the series one"
            )
    return build_seg(
        headers,
        layers,
        [SegmentSpec(n, colors.get(n, (255, 255, 0))) for n in names],
        series_uid=str(generate_uid()),
        series_number=EXPORT_SERIES_NUMBER,
        series_description="ROIs (osirix-tasks export)",
    )


def _sr_files(planes: list[PlaneRois], stem: str) -> dict[str, bytes]:
    brushes = {
        (i, r.name): plane_mask(r, p.source.rows, p.source.columns)
        for i, p in enumerate(planes)
        for r in p.rois
        if r.is_mask and r.texture is not None
    }
    merged: dict[tuple[int, str], np.ndarray] = {}
    for key, mask in brushes.items():
        merged[key] = merged.get(key, False) | mask
    names = sorted({name for _, name in merged})
    seg = _mask_seg(planes, merged, names) if merged else None
    segments = {id(r): names.index(r.name) + 1 for p in planes for r in p.rois if r.is_mask and seg is not None}
    headers = {p.source.key: source_header(p.source.path) for p in planes}
    sr = build_sr(planes, headers, series_uid=str(generate_uid()), series_number=EXPORT_SERIES_NUMBER + 1,
                  series_description="ROIs (osirix-tasks export)", seg=seg, segments=segments)  # fmt: skip
    files = {f"{stem}.dcm": _dicom_bytes(sr)}
    if seg is not None:
        files[f"{stem}.seg.dcm"] = _dicom_bytes(seg)
    return files


def _seg_files(connection: Connection, viewer_rois: list[Any], planes: list[PlaneRois], stem: str) -> dict[str, bytes]:
    index_of = {p.source.slice_index: i for i, p in enumerate(planes)}
    masks: dict[tuple[int, str], np.ndarray] = {}
    for item in viewer_rois:
        if item.record.itype not in AREA_TYPES:
            continue
        plane = planes[index_of[item.slice_index]]
        mask = inside_mask(connection, item.pix, item.ref, plane.source.rows, plane.source.columns)
        if mask.any():
            key = (index_of[item.slice_index], item.record.name)
            masks[key] = masks.get(key, False) | mask
    if not masks:
        raise OsirixTasksError("no ROI with an inside (brush, polygon, pencil, rectangle, oval): no SEG to write")
    return {f"{stem}.dcm": _dicom_bytes(_mask_seg(planes, masks, sorted({n for _, n in masks})))}


def _json_entry(record: RoiRecord) -> dict[str, Any]:
    entry = {**record.to_json(), "measurements": record.measurements}
    if record.texture is not None:
        entry["mask"] = base64.b64encode(np.packbits(record.texture.astype(bool)).tobytes()).decode("ascii")
    return entry


def _table_files(planes: list[PlaneRois], fmt: str, stem: str) -> dict[str, bytes]:
    if fmt == "json":
        document = {
            "version": 1,
            "planes": [
                {"sop": p.source.key.sop_instance_uid, "frame": p.source.key.frame, "slice": p.source.slice_index + 1,
                 "rois": [_json_entry(r) for r in p.rois]}
                for p in planes
            ],
        }  # fmt: skip
        return {f"{stem}.json": json.dumps(document, indent=1).encode("utf-8")}
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for plane in planes:
        for record in plane.rois:
            measured = {k: f"{v:.6g}" for k, v in record.measurements.items()}
            writer.writerow(
                {
                    "name": record.name, "type": record.itype, "type_name": type_name(record.itype),
                    "slice": plane.source.slice_index + 1, "sop_instance_uid": plane.source.key.sop_instance_uid,
                    "frame": plane.source.key.frame, **{k: measured.get(k, "") for k in CSV_COLUMNS[6:12]},
                    "color": " ".join(map(str, record.color)), "opacity": f"{record.opacity:.6g}",
                    "thickness": f"{record.thickness:g}",
                    "rect": " ".join(f"{v:g}" for v in record.rect) if record.rect is not None else "",
                    "points": ";".join(f"{x:g} {y:g}" for x, y in record.points),
                }
            )  # fmt: skip
    return {f"{stem}.csv": out.getvalue().encode("utf-8")}


def export_files(
    connection: Connection, viewer: Any, fmt: str, stem: str = "rois", movie_idx: int = 0
) -> dict[str, bytes]:
    """The file(s) of ``viewer``'s ROIs (one movie frame) in ``fmt``: {file name: content}."""
    if fmt not in FORMATS:
        raise OsirixTasksError(f"unknown export format {fmt!r} - use one of {', '.join(FORMATS)}")
    planes, rois = viewer_planes(connection, viewer, movie_idx)
    if not planes:
        raise OsirixTasksError("the viewer has no ROIs to export")
    if fmt == "sr":
        return _sr_files(planes, stem)
    if fmt == "seg":
        return _seg_files(connection, rois, planes, stem)
    return _table_files(planes, fmt, stem)


def write_export(connection: Connection, viewer: Any, fmt: str, output: Path) -> list[Path]:
    """Write the export beside ``output`` (its folder, its name without extension); owner-only files."""
    stem = output.name.split(".")[0] or "rois"
    files = export_files(connection, viewer, fmt, stem)
    return [_write_private(output.parent / name, data) for name, data in files.items()]


# --- import ------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import drew, and what it skipped (file and reason)."""

    drawn: int = 0
    skipped: list[str] = field(default_factory=list)


def _json_records(path: Path) -> dict[PlaneKey, list[RoiRecord]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    found: dict[PlaneKey, list[RoiRecord]] = {}
    for plane in document["planes"]:
        key = PlaneKey(str(plane["sop"]), int(plane.get("frame", 0)))
        for entry in plane["rois"]:
            record = RoiRecord.from_json(entry)
            if entry.get("mask") and entry.get("texture_shape"):
                rows, columns = (int(v) for v in entry["texture_shape"])
                bits = np.unpackbits(np.frombuffer(base64.b64decode(entry["mask"]), dtype=np.uint8))
                record.texture = bits[: rows * columns].reshape(rows, columns).astype(bool)
            found.setdefault(key, []).append(record)
    return found


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.replace(";", " ").split()] if text else []


def _csv_records(path: Path, report: ImportReport) -> dict[PlaneKey, list[RoiRecord]]:
    found: dict[PlaneKey, list[RoiRecord]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            itype = int(row["type"])
            if itype == RoiCode.BRUSH:
                report.skipped.append(
                    f"{path}:{line}: brush ROI {row['name']!r} - a CSV holds no mask (use SEG or JSON)"
                )
                continue
            rect = _floats(row.get("rect", ""))
            color = [int(v) for v in _floats(row.get("color", ""))] or list(DEFAULT_COLOR)
            record = RoiRecord(
                itype, row["name"], color=(color[0], color[1], color[2]),
                opacity=float(row.get("opacity") or 1), thickness=float(row.get("thickness") or 1),
                points=np.asarray(_floats(row.get("points", "")), dtype=np.float64).reshape(-1, 2),
                rect=(rect[0], rect[1], rect[2], rect[3]) if len(rect) == 4 else None,
            )  # fmt: skip
            found.setdefault(PlaneKey(row["sop_instance_uid"], int(row.get("frame") or 0)), []).append(record)
    return found


def _dicom_records(path: Path, report: ImportReport) -> dict[PlaneKey, list[RoiRecord]]:
    found = read_object(path)
    if str(pydicom.dcmread(path, stop_before_pixels=True).SOPClassUID) != SEG_SOP_CLASS:
        content = read_sr(pydicom.dcmread(path))
        if content.masks:
            sibling = path.with_name(path.name.split(".")[0] + ".seg.dcm")
            masks = read_seg(pydicom.dcmread(sibling)) if sibling.exists() else None
            if masks is None:
                report.skipped.append(
                    f"{path}: its brush ROIs' SEG ({sibling.name}) is not beside it - they are skipped"
                )
            else:
                by = {(f.key, f.segment): f.mask for f in masks.frames}
                for key, records in content.planes.items():
                    for record in records:
                        link = content.masks.get(id(record))
                        mask = by.get((key, link.segment)) if link is not None else None
                        placed = (
                            texture_from_mask(mask, record.texture_origin, link.shape)
                            if mask is not None and link
                            else None
                        )
                        if placed is not None:
                            record.texture, record.texture_origin = placed
                            found.planes.setdefault(key, []).append(record)
    return found.planes


def _draw_record(connection: Connection, viewer: Any, index: int, record: RoiRecord, movie_idx: int) -> None:
    request = viewercontroller_pb2.ViewerControllerNewROIRequest
    message = request(viewer_controller=viewer, idx=index, movie_idx=movie_idx, itype=record.itype, name=record.name,
                      opacity=record.opacity, thickness=record.thickness,
                      color=request.Color(r=record.color[0], g=record.color[1], b=record.color[2]))  # fmt: skip
    if record.texture is not None:
        texture = record.texture
        message.buffer.CopyFrom(
            request.Buffer(buffer=texture.ravel().tolist(), rows=texture.shape[0], columns=texture.shape[1])
        )
        message.buffer_position_x, message.buffer_position_y = record.texture_origin
    elif record.rect is not None:
        x, y, w, h = record.rect
        message.rectangle.CopyFrom(request.Rect(origin_x=x, origin_y=y, width=w, height=h))
    else:
        message.points.extend(request.Point2D(x=float(x), y=float(y)) for x, y in record.points)
    connection.call("ViewerControllerNewROI", message)


def _records_of(path: Path, suffix: str, report: ImportReport) -> dict[PlaneKey, list[RoiRecord]] | None:
    """The file's ROIs by plane; None (reported) when it cannot be read."""
    try:
        if suffix == ".json":
            return _json_records(path)
        if suffix == ".csv":
            return _csv_records(path, report)
        return _dicom_records(path, report)
    except Exception as exc:  # malformed in any of many ways: named, skipped
        report.skipped.append(f"{path}: cannot be read as ROIs ({type(exc).__name__}: {exc}) - skipped")
        return None


def _draw_all(connection: Connection, viewer: Any, path: Path, known: dict[PlaneKey, list[RoiRecord]],
              slices: dict[PlaneKey, int], movie_idx: int, report: ImportReport) -> None:  # fmt: skip
    for key, rois in known.items():
        for record in rois:
            try:
                _draw_record(connection, viewer, slices[key], record, movie_idx)
                report.drawn += 1
            except OsirixTasksError as exc:
                report.skipped.append(f"{path}: ROI {record.name!r} on slice {slices[key]}: {exc}")


def import_file(connection: Connection, viewer: Any, path: Path, movie_idx: int = 0) -> ImportReport:
    """Draw the ROIs of ``path`` (SR, SEG, CSV or JSON) in ``viewer`` on the images they reference; an
    SR or SEG is also copied into OsiriX's database. Problems are in the report, never raised."""
    report = ImportReport()
    suffix = path.suffix.lower()
    records = _records_of(path, suffix, report)
    if records is None:
        return report
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=movie_idx)
    pixes = list(connection.call("ViewerControllerPixList", request).pix)
    slices = {source_of(connection, pix, i).key: i for i, pix in enumerate(pixes)}
    known = {key: rois for key, rois in records.items() if key in slices}
    if not known:
        report.skipped.append(
            f"{path}: references none of the viewer's images (they are not in this database) - skipped"
        )
        return report
    for key in sorted(set(records) - set(known), key=lambda k: k.label()):
        report.skipped.append(f"{path}: {len(records[key])} ROI(s) on image {key.label()}, not in the viewer - skipped")
    _draw_all(connection, viewer, path, known, slices, movie_idx, report)
    if suffix not in (".json", ".csv"):
        browser = connection.call("OsirixCurrentBrowser", Empty()).browser_controller
        sibling = path.with_name(path.name.split(".")[0] + ".seg.dcm")
        paths = [str(p.resolve()) for p in (path, sibling) if p.exists() and (p == path or suffix != ".seg.dcm")]
        copy = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(
            browser=browser, paths=list(dict.fromkeys(paths))
        )
        connection.call("BrowserControllerCopyFilesIfNeeded", copy)
    return report


def viewer_for(connection: Connection, series_uid: str | None) -> tuple[Any, bool]:
    """The viewer to export from or import into: one opened on ``series_uid`` (its stored ROIs loaded;
    True: close it afterwards), else the frontmost one."""
    from .db_listing import list_series
    from .viewer_tools import frontmost_viewer, open_series

    if series_uid is None:
        return frontmost_viewer(connection), False
    matches = [
        s
        for s in list_series(connection)
        if series_uid in (s.series_instance_uid, s.series_instance_uid.split(" TE-")[0])
    ]
    if not matches:
        raise OsirixTasksError(f"no series {series_uid} at {connection.address} - see 'osirix-tasks db series'")
    return open_series(connection, matches[0].ref), True

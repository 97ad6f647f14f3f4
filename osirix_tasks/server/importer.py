"""Import DICOM files and folders into the database (pydicom headers, SQLite rows, file copies).

Files are taken in batches; each batch is one SQLite transaction that also covers the copies of
its files, so a process killed in the middle leaves every file either fully indexed or not at
all. Files that are not DICOM, are broken, or hold no image are skipped and counted.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from pydicom.errors import InvalidDicomError

from .database import Database

__all__ = ["ImportSummary", "find_files", "import_paths", "read_header", "NotAnImage"]

BATCH = 64

#: Extra tags kept with each image for viewers and DCMPix (JSON in images.header).
_EXTRA_TAGS = (
    "PixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "WindowCenter",
    "WindowWidth",
    "RescaleSlope",
    "RescaleIntercept",
    "PhotometricInterpretation",
    "SamplesPerPixel",
    "BitsAllocated",
    "EchoTime",
    "SeriesDescription",
    "ImageType",
)


#: Every tag read_header looks at: pydicom then parses only these.
_READ_TAGS = [
    "SOPInstanceUID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Rows",
    "Columns",
    "Modality",
    "EchoTime",
    "AcquisitionDate",
    "ContentDate",
    "SeriesDate",
    "StudyDate",
    "AcquisitionTime",
    "ContentTime",
    "SeriesTime",
    "StudyTime",
    "InstanceNumber",
    "SeriesNumber",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "SliceLocation",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDescription",
    "InstitutionName",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "SOPClassUID",
    "NumberOfFrames",
    *_EXTRA_TAGS,
]


class NotAnImage(ValueError):
    """A DICOM file that OsiriX would not list as an image (no rows/columns, no UIDs)."""


@dataclass
class ImportSummary:
    """What an import did."""

    imported: int = 0
    already_present: int = 0
    not_dicom: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __str__(self) -> str:
        parts = [
            f"{self.imported} imported",
            f"{self.already_present} already in the database",
            f"{len(self.not_dicom)} not DICOM",
            f"{len(self.broken)} broken",
        ]
        text = ", ".join(parts) + f" ({self.seconds:.1f} s)"
        for label, items in (("not DICOM", self.not_dicom), ("broken", self.broken)):
            for item in items[:5]:
                text += f"\n  skipped ({label}): {item}"
            if len(items) > 5:
                text += f"\n  ... and {len(items) - 5} more {label}"
        return text


def find_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every file under ``paths`` (folders walked recursively, hidden entries left out)."""
    found: list[Path] = []
    for entry in paths:
        path = Path(entry).expanduser()
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / f for f in sorted(files) if not f.startswith("."))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder - check the path")
    return found


def _text(ds: Any, keyword: str) -> str | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    return str(value).strip() or None


def _floats(ds: Any, keyword: str) -> list[float] | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    items = value if hasattr(value, "__iter__") and not isinstance(value, str) else [value]
    try:
        return [float(v) for v in items]
    except (TypeError, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float) or value is None:
        return value
    if hasattr(value, "__iter__"):
        return [_jsonable(v) for v in value]
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def person_name(value: Any) -> str:
    """A DICOM PN as OsiriX shows it: components separated by spaces, not ``^``."""
    if value is None:
        return ""
    return " ".join(str(value).replace("^", " ").split())


def read_header(path: Path) -> dict[str, Any]:
    """The header fields the database keeps for one file.

    Raises InvalidDicomError for a file that is not DICOM, NotAnImage when it holds no image.
    """
    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_READ_TAGS)
    missing = [k for k in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Rows", "Columns") if k not in ds]
    if missing:
        raise NotAnImage(f"no {', '.join(missing)}")
    modality = _text(ds, "Modality") or "OT"
    echo = _text(ds, "EchoTime")
    series_uid = str(ds.SeriesInstanceUID).strip()
    # OsiriX splits multi-echo MR series: its series identifier carries the echo time.
    series_key = f"{series_uid} TE-{echo}" if modality == "MR" and echo else series_uid
    date = _text(ds, "AcquisitionDate") or _text(ds, "ContentDate") or _text(ds, "SeriesDate") or _text(ds, "StudyDate")
    time_of_day = (
        _text(ds, "AcquisitionTime") or _text(ds, "ContentTime") or _text(ds, "SeriesTime") or _text(ds, "StudyTime")
    )
    extra = {k: _jsonable(v) for k in _EXTRA_TAGS if (v := ds.get(k)) not in (None, "")}
    extra["AcquisitionDate"], extra["AcquisitionTime"] = date, time_of_day
    try:
        number = int(ds.get("InstanceNumber")) if ds.get("InstanceNumber") not in (None, "") else None
    except (TypeError, ValueError):
        number = None
    try:
        series_number = int(ds.get("SeriesNumber")) if ds.get("SeriesNumber") not in (None, "") else None
    except (TypeError, ValueError):
        series_number = None
    position = _floats(ds, "ImagePositionPatient")
    orientation = _floats(ds, "ImageOrientationPatient")
    slice_location = _floats(ds, "SliceLocation")
    return {
        "study": {
            "study_instance_uid": str(ds.StudyInstanceUID).strip(),
            "patient_name": person_name(ds.get("PatientName")),
            "patient_id": _text(ds, "PatientID") or "",
            "patient_birth_date": _text(ds, "PatientBirthDate"),
            "patient_sex": _text(ds, "PatientSex") or "",
            "study_description": _text(ds, "StudyDescription") or "",
            "institution_name": _text(ds, "InstitutionName"),
            "referring_physician": person_name(ds.get("ReferringPhysicianName")) or None,
            "performing_physician": person_name(ds.get("PerformingPhysicianName")) or None,
            "modality": modality,
        },
        "series": {
            "series_key": series_key,
            "series_instance_uid": series_uid,
            "sop_class_uid": _text(ds, "SOPClassUID") or "",
            "description": _text(ds, "SeriesDescription") or "",
            "modality": modality,
            "series_number": series_number,
        },
        "image": {
            "sop_instance_uid": str(ds.SOPInstanceUID).strip(),
            "instance_number": number,
            "rows": int(ds.Rows),
            "columns": int(ds.Columns),
            "number_of_frames": int(ds.get("NumberOfFrames") or 1),
            "modality": modality,
            "acquired": f"{date or ''}|{time_of_day or ''}" if date else None,
            "position": json.dumps(position) if position and len(position) == 3 else None,
            "orientation": json.dumps(orientation) if orientation and len(orientation) == 6 else None,
            "slice_location_tag": slice_location[0] if slice_location else None,
            "header": json.dumps(extra),
        },
    }


def _row_id(conn: sqlite3.Connection, table: str, key: str, values: dict[str, Any]) -> int:
    found = conn.execute(f"SELECT id FROM {table} WHERE {key} = ?", (values[key],)).fetchone()
    if found:
        return int(found[0])
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))
    return int(cursor.lastrowid or 0)


def _store(db: Database, conn: sqlite3.Connection, source: Path, header: dict[str, Any], copy: bool) -> bool:
    study_id = _row_id(conn, "studies", "study_instance_uid", {**header["study"], "date_added": time.time()})
    series_id = _row_id(conn, "series", "series_key", {**header["series"], "study_id": study_id})
    image = header["image"]
    if conn.execute(
        "SELECT 1 FROM images WHERE series_id = ? AND sop_instance_uid = ?", (series_id, image["sop_instance_uid"])
    ).fetchone():
        return False
    values = {**image, "series_id": series_id, "path": f"pending:{image['sop_instance_uid']}:{series_id}"}
    cursor = conn.execute(
        f"INSERT INTO images ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
        tuple(values.values()),
    )
    image_id = int(cursor.lastrowid or 0)
    if copy:
        folder = db.files_folder / str(image_id // 1000)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{image_id}.dcm"
        partial = target.with_suffix(".part")
        shutil.copyfile(source, partial)
        os.replace(partial, target)
        final = str(target)
    else:
        final = str(source.resolve())
    conn.execute("UPDATE images SET path = ? WHERE id = ?", (final, image_id))
    return True


def import_paths(
    db: Database,
    paths: Iterable[str | os.PathLike[str]],
    *,
    copy: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import files and folders; ``copy`` puts the files into the database folder as OsiriX does.

    Never raises for a bad file: it is counted in the summary. ``progress(done, total)`` is called
    after each batch.
    """
    started = time.perf_counter()
    summary = ImportSummary()
    files = find_files(paths)
    for start in range(0, len(files), BATCH):
        batch = files[start : start + BATCH]
        headers = []
        for path in batch:
            try:
                headers.append((path, read_header(path)))
            except InvalidDicomError:
                summary.not_dicom.append(str(path))
            except NotAnImage as exc:
                summary.broken.append(f"{path} ({exc})")
            except Exception as exc:  # truncated or malformed files: pydicom raises many kinds
                summary.broken.append(f"{path} ({type(exc).__name__}: {exc})")
        with db.transaction() as conn:
            for path, header in headers:
                if _store(db, conn, path, header, copy):
                    summary.imported += 1
                else:
                    summary.already_present += 1
        if progress:
            progress(min(start + BATCH, len(files)), len(files))
    summary.seconds = time.perf_counter() - started
    return summary

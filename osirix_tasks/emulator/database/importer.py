"""Import DICOM files and folders into the database (pydicom headers, SQLite rows, file copies).

Only headers are read (``dicomread``: tolerant, bounded, never the pixel data); pixels are decoded
when a viewer needs a plane. A multi-frame file gives one image row per frame, as in OsiriX; a
non-image object (structured report, presentation state, RT plan or structure set, waveform, key
object selection ...) gives one row of kind ``object`` in a series of its own modality. A DICOMDIR
is followed to the files it refers to. What a file leaves unnamed is named as OsiriX names it when it
reads the file: a patient without a PatientName (absent or empty) is "No name", a study without a
StudyDescription takes the CodeMeaning of its first ProcedureCodeSequence item, else "unnamed", a
series without a SeriesDescription takes its PerformedProcedureStepDescription, then its
AcquisitionDeviceProcessingDescription, else "unnamed".

Files are taken in batches; each batch is one SQLite transaction that also covers the copies of
its files, so a process killed in the middle leaves every file either fully indexed or not at
all. Files that are not DICOM, are broken, hold no image, or cannot be copied are skipped,
counted and named in the summary; the import goes on. An import stops at its next file when its
``cancel`` event is set or the database is closed.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag

from ...errors import DatabaseError, DeclaredTooLarge, HeaderTooLarge, InflatesTooFar, UnlistableDicom
from .declared_size import check_declared_size
from .dicomread import dicomdir_references, is_dicomdir, read_dicom_header, transfer_syntax_of, uid_name
from .frames import FrameInfo, frames_of, number_of_frames
from .index import IMAGE, OBJECT, Database

__all__ = ["ImportSummary", "find_files", "import_paths", "read_header", "store_batch", "UnlistableDicom", "LINK"]

log = logging.getLogger(__name__)
BATCH = 64
#: What OsiriX calls a patient without a PatientName, and a study or series without a description
#: (Horos ``DicomFileDCMTKCategory.mm``).
NO_NAME = "No name"
UNNAMED = "unnamed"
#: ``store_batch(copy=LINK)``: the file gets a second name in the database folder (a copy if it cannot).
LINK: Literal["link"] = "link"
#: How a file joins the database: copied in (True), linked in (:data:`LINK`), or indexed where it is (False).
Copy = bool | Literal["link"]

#: Extra tags kept with each image for viewers and DCMPix (JSON in images.header); the per-frame
#: ones (spacing, window, rescale) are overridden by the frame's functional groups.
_EXTRA_TAGS = (
    "SliceThickness",
    "SpacingBetweenSlices",
    "PhotometricInterpretation",
    "SamplesPerPixel",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "EchoTime",
    "SeriesDescription",
    "ImageType",
    "DoseGridScaling",
)

#: Every top-level tag read_header looks at: pydicom then parses only these.
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
    "PixelSpacing",
    "ImagerPixelSpacing",
    "WindowCenter",
    "WindowWidth",
    "RescaleSlope",
    "RescaleIntercept",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
    "GridFrameOffsetVector",
    "DirectoryRecordSequence",
    "SpecificCharacterSet",
    "ProcedureCodeSequence",
    "PerformedProcedureStepDescription",
    "AcquisitionDeviceProcessingDescription",
    *_EXTRA_TAGS,
]


_READ_TAG_NUMBERS = [Tag(keyword) for keyword in _READ_TAGS]


@dataclass
class ImportSummary:
    """What an import did; ``stopped`` says why it ended before the last file (disk full ...)."""

    imported: int = 0
    already_present: int = 0
    not_dicom: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)
    copy_failed: list[str] = field(default_factory=list)
    frames: int = 0
    objects: int = 0
    dicomdirs: int = 0
    cancelled: bool = False
    stopped: str | None = None
    not_imported: int = 0
    seconds: float = 0.0

    def _kinds(self) -> list[tuple[str, list[str]]]:
        return [
            ("not DICOM", self.not_dicom),
            ("broken", self.broken),
            ("too large", self.too_large),
            ("copy failed", self.copy_failed),
        ]

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """Every skipped file with the reason: (label, 'path (why)')."""
        return [(label, item) for label, items in self._kinds() for item in items]

    def __str__(self) -> str:
        parts = [
            f"{self.imported} imported",
            f"{self.already_present} already in the database",
            f"{len(self.not_dicom)} not DICOM",
            f"{len(self.broken)} broken",
        ]
        if self.too_large:
            parts.append(f"{len(self.too_large)} too large")
        if self.copy_failed:
            parts.append(f"{len(self.copy_failed)} could not be copied")
        text = ", ".join(parts) + f" ({self.seconds:.1f} s)"
        if self.stopped:
            text += f" - stopped, {self.not_imported} file(s) not imported: {self.stopped}"
        elif self.cancelled:
            text += " - cancelled before the end"
        for label, items in self._kinds():
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


def _get(ds: Any, keyword: str) -> Any:
    """A value, or None when absent or malformed (a bad optional tag never rejects the file)."""
    try:
        return ds.get(keyword)
    except Exception:
        return None


def _text(ds: Any, keyword: str) -> str | None:
    value = _get(ds, keyword)
    if value is None or value == "":
        return None
    return str(value).strip() or None


def _floats(ds: Any, keyword: str) -> list[float] | None:
    value = _get(ds, keyword)
    if value is None or value == "":
        return None
    items = value if hasattr(value, "__iter__") and not isinstance(value, str) else [value]
    try:
        return [float(v) for v in items]
    except (TypeError, ValueError):
        return None


def _int(ds: Any, keyword: str) -> int | None:
    value = _get(ds, keyword)
    if value in (None, ""):
        return None
    try:
        return int(value)
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


def is_image_class(sop_class_uid: str) -> bool:
    """True for an image storage SOP class (and for an unknown one: OsiriX tries to show it)."""
    name = uid_name(sop_class_uid) if sop_class_uid else ""
    if not name or name == sop_class_uid:
        return True
    return "Image" in name or "Segmentation" in name or "RT Dose" in name


def read_header(path: Path) -> dict[str, Any]:
    """The rows the database keeps for one file: study, series and one image entry per frame.

    A DICOMDIR answers ``{"dicomdir": [files it refers to]}``. Raises InvalidDicomError for a file
    that is not DICOM, UnlistableDicom when it cannot be listed, DeclaredTooLarge when it declares more
    than it holds or than one decode may allocate (:mod:`.declared_size`).
    """
    ds = read_dicom_header(path, specific_tags=_READ_TAG_NUMBERS)
    if is_dicomdir(ds):
        return {"dicomdir": dicomdir_references(path)}
    _fill_missing_uids(ds, path)
    sop_class = _text(ds, "SOPClassUID") or ""
    rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
    if rows and columns:
        kind = IMAGE
        check_declared_size(ds, path)
    elif not is_image_class(sop_class):
        kind = OBJECT
    else:
        raise UnlistableDicom(f"no {'Rows' if not rows else 'Columns'}")
    return _rows_for(ds, kind, sop_class)


def _fill_missing_uids(ds: Dataset, path: Path) -> None:
    """Missing UIDs, as OsiriX fills them: study and series take the patient name ("No name"), as in
    Horos DicomFileDCMTKCategory; a missing SOPInstanceUID gets one derived from the file's path
    (our choice: stable, so importing the file twice adds it once)."""
    from pydicom.uid import generate_uid

    name = person_name(_get(ds, "PatientName")) or NO_NAME
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):
        if not _text(ds, keyword):
            setattr(ds, keyword, name)
    if not _text(ds, "SOPInstanceUID"):
        ds.SOPInstanceUID = generate_uid(prefix="1.2.826.0.1.3680043.10.1458.7.", entropy_srcs=[str(path.resolve())])


def _acquired(ds: Dataset) -> tuple[str | None, str | None]:
    """The image's date and time: acquisition, else content, series, study (OsiriX's order)."""
    date = _text(ds, "AcquisitionDate") or _text(ds, "ContentDate") or _text(ds, "SeriesDate") or _text(ds, "StudyDate")
    time_of_day = (
        _text(ds, "AcquisitionTime") or _text(ds, "ContentTime") or _text(ds, "SeriesTime") or _text(ds, "StudyTime")
    )
    return date, time_of_day


def _common_header(ds: Dataset, modality: str) -> dict[str, Any]:
    """The extra tags every frame of the file shares (JSON in images.header)."""
    common = {k: _jsonable(v) for k in _EXTRA_TAGS if (v := _get(ds, k)) not in (None, "")}
    common["AcquisitionDate"], common["AcquisitionTime"] = _acquired(ds)
    common["TransferSyntaxUID"] = transfer_syntax_of(ds)
    common["Modality"] = modality
    return common


def _frame_header(common: dict[str, Any], info: FrameInfo | None) -> dict[str, Any]:
    """``common`` overridden by what the frame's functional groups say."""
    extra = dict(common)
    if info is None:
        return extra
    own = (
        ("PixelSpacing", info.spacing),
        ("WindowCenter", info.window_center),
        ("WindowWidth", info.window_width),
        ("RescaleSlope", info.slope),
        ("RescaleIntercept", info.intercept),
        ("SliceThickness", info.thickness),
    )
    extra.update({k: v for k, v in own if v is not None})
    return extra


def _frame_geometry(info: FrameInfo | None) -> dict[str, Any]:
    """The images columns that come from the frame: position, orientation, index, slice location."""
    if info is None:
        return {"position": None, "orientation": None, "frame": 0, "slice_location": 0.0}
    position, orientation = info.position, info.orientation
    return {
        "position": json.dumps(position) if position and len(position) == 3 else None,
        "orientation": json.dumps(orientation) if orientation and len(orientation) == 6 else None,
        "frame": info.index,
        "slice_location": info.slice_location,
    }


def _image_row(ds: Dataset, kind: str, modality: str, common: dict[str, Any], info: FrameInfo | None) -> dict[str, Any]:
    """The images row of one frame (``info``), or of a non-image object (``info`` None)."""
    date, time_of_day = _acquired(ds)
    slice_location_tag = _floats(ds, "SliceLocation")
    is_image = kind == IMAGE
    return {
        "sop_instance_uid": str(_text(ds, "SOPInstanceUID")),
        "instance_number": _int(ds, "InstanceNumber"),
        "rows": (_int(ds, "Rows") or 0) if is_image else 0,
        "columns": (_int(ds, "Columns") or 0) if is_image else 0,
        "number_of_frames": number_of_frames(ds) if is_image else 1,
        "modality": modality,
        "acquired": f"{date or ''}|{time_of_day or ''}" if date else None,
        "slice_location_tag": slice_location_tag[0] if slice_location_tag else None,
        "header": json.dumps(_frame_header(common, info)),
        "kind": kind,
        **_frame_geometry(info),
    }


def _procedure_meaning(ds: Dataset) -> str | None:
    """The CodeMeaning of the first ProcedureCodeSequence item (a study description's fallback)."""
    try:
        items = ds.get("ProcedureCodeSequence")
        return _text(items[0], "CodeMeaning") if items else None
    except Exception:
        return None


def _study_row(ds: Dataset, modality: str) -> dict[str, Any]:
    """The studies row; unnamed patients and studies named as OsiriX names them (module docstring)."""
    return {
        "study_instance_uid": str(_text(ds, "StudyInstanceUID")),
        "patient_name": person_name(_get(ds, "PatientName")) or NO_NAME,
        "patient_id": _text(ds, "PatientID") or "",
        "patient_birth_date": _text(ds, "PatientBirthDate"),
        "patient_sex": _text(ds, "PatientSex") or "",
        "study_description": _text(ds, "StudyDescription") or _procedure_meaning(ds) or UNNAMED,
        "institution_name": _text(ds, "InstitutionName"),
        "referring_physician": person_name(_get(ds, "ReferringPhysicianName")) or None,
        "performing_physician": person_name(_get(ds, "PerformingPhysicianName")) or None,
        "modality": modality,
    }


def _series_row(ds: Dataset, modality: str, sop_class: str) -> dict[str, Any]:
    """The series row; an MR series is split by echo time, as OsiriX does (its key carries it)."""
    echo = _text(ds, "EchoTime")
    series_uid = str(_text(ds, "SeriesInstanceUID"))
    description = (
        _text(ds, "SeriesDescription")
        or _text(ds, "PerformedProcedureStepDescription")
        or _text(ds, "AcquisitionDeviceProcessingDescription")
        or UNNAMED
    )
    return {
        "series_key": f"{series_uid} TE-{echo}" if modality == "MR" and echo else series_uid,
        "series_instance_uid": series_uid,
        "sop_class_uid": sop_class,
        "description": description,
        "modality": modality,
        "series_number": _int(ds, "SeriesNumber"),
    }


def _rows_for(ds: Dataset, kind: str, sop_class: str) -> dict[str, Any]:
    """The study, series and images rows of one file (one images row per frame)."""
    modality = _text(ds, "Modality") or "OT"
    common = _common_header(ds, modality)
    frames: list[FrameInfo | None] = list(frames_of(ds)) if kind == IMAGE else [None]
    return {
        "study": _study_row(ds, modality),
        "series": _series_row(ds, modality, sop_class),
        "images": [_image_row(ds, kind, modality, common, info) for info in frames],
    }


def _row_id(conn: sqlite3.Connection, table: str, key: str, values: dict[str, Any]) -> int:
    found = conn.execute(f"SELECT id FROM {table} WHERE {key} = ?", (values[key],)).fetchone()
    if found:
        return int(found[0])
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))
    return int(cursor.lastrowid or 0)


def _copy_private(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a ``.part`` file, owner-only (0600) from the start."""
    partial = target.with_suffix(".part")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        shutil.copyfile(source, partial)  # into the 0600 file (kernel copy where it can)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


def _link_private(source: Path, target: Path) -> None:
    """Give ``source`` (owner-only already) a second name ``target`` (a copy across file systems)."""
    try:
        os.link(source, target)
    except FileExistsError:
        target.unlink()
        os.link(source, target)
    except OSError as exc:
        if exc.errno in _FOLDER_FULL:
            raise
        _copy_private(source, target)


def _insert_images(conn: sqlite3.Connection, series_id: int, images: list[dict[str, Any]]) -> list[int]:
    ids = []
    for image in images:
        values = {
            **image,
            "series_id": series_id,
            "path": f"pending:{image['sop_instance_uid']}:{series_id}:{image['frame']}",
        }
        cursor = conn.execute(
            f"INSERT INTO images ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
            tuple(values.values()),
        )
        ids.append(int(cursor.lastrowid or 0))
    return ids


def _store(
    db: Database,
    conn: sqlite3.Connection,
    source: Path,
    header: dict[str, Any],
    copy: Copy,
    copies: list[Path] | None = None,
) -> bool:
    """Index one file (and copy it in, recording the copy in ``copies``); False when it is there already."""
    study_id = _row_id(conn, "studies", "study_instance_uid", {**header["study"], "date_added": time.time()})
    series_id = _row_id(conn, "series", "series_key", {**header["series"], "study_id": study_id})
    images = header["images"]
    if conn.execute(
        "SELECT 1 FROM images WHERE series_id = ? AND sop_instance_uid = ? LIMIT 1",
        (series_id, images[0]["sop_instance_uid"]),
    ).fetchone():
        return False
    ids = _insert_images(conn, series_id, images)
    if copy:
        folder = db.files_folder / str(ids[0] // 1000)
        db.make_private_folder(folder)
        target = folder / f"{ids[0]}.dcm"
        db.journal_copies([target])
        if copies is not None:
            copies.append(target)
        (_link_private if copy == LINK else _copy_private)(source, target)
        final = str(target)
    else:
        final = str(source.resolve())
    conn.executemany("UPDATE images SET path = ? WHERE id = ?", [(final, i) for i in ids])
    return True


def _expand_dicomdirs(files: list[Path], summary: ImportSummary) -> list[Path]:
    """``files`` with each DICOMDIR replaced by the files it refers to (each file once)."""
    out: list[Path] = []
    seen: set[Path] = set()
    for path in files:
        targets = [path]
        if path.name.upper() == "DICOMDIR":
            try:
                targets = dicomdir_references(path)
                summary.dicomdirs += 1
            except Exception as exc:
                summary.broken.append(f"{path} (DICOMDIR not readable: {type(exc).__name__}: {exc})")
                continue
            missing = [t for t in targets if not t.exists()]
            summary.broken.extend(f"{t} (named in {path}, missing)" for t in missing)
            targets = [t for t in targets if t.exists()]
        for target in targets:
            key = target.resolve()
            if key not in seen:
                seen.add(key)
                out.append(target)
    return out


#: errno of a write that fails for the whole database folder, not for one file: the import stops.
#: (EFBIG - this file is larger than a file may be - skips that file only.)
_FOLDER_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


def _stop_reason(db: Database, exc: BaseException) -> str:
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return (
        f"the database at {db.folder} cannot be written ({detail}) - free some space on that disk "
        "(or choose another --database) and import again; nothing of the unfinished batch was kept"
    )


def _read_one(path: Path, files: list[Path], summary: ImportSummary) -> dict[str, Any] | None:
    """The rows of one file, or None with the file counted in the summary (a DICOMDIR under another
    name adds its files to ``files``)."""
    try:
        header = read_header(path)
    except InvalidDicomError:
        summary.not_dicom.append(str(path))
        return None
    except UnlistableDicom as exc:
        summary.broken.append(f"{path} ({exc})")
        return None
    except (DeclaredTooLarge, HeaderTooLarge, InflatesTooFar) as exc:
        summary.too_large.append(f"{path} ({exc})")
        return None
    except Exception as exc:  # truncated or malformed files: pydicom raises many kinds
        summary.broken.append(f"{path} ({type(exc).__name__}: {exc})")
        return None
    if "dicomdir" in header:
        summary.dicomdirs += 1
        known = {f.resolve() for f in files}
        files.extend(p for p in header["dicomdir"] if p.exists() and p.resolve() not in known)
        return None
    return header


def _store_one(
    db: Database,
    conn: sqlite3.Connection,
    item: tuple[Path, dict[str, Any]],
    copy: Copy,
    copies: list[Path],
    summary: ImportSummary,
) -> bool | None:
    """Store one file in its own savepoint; a file that cannot be copied is skipped, a full folder stops.
    True: stored; False: it was there already; None: its copy failed (counted in ``summary``)."""
    path, header = item
    conn.execute("SAVEPOINT one_file")
    try:
        stored: bool | None = _store(db, conn, path, header, copy, copies)
    except OSError as exc:
        conn.execute("ROLLBACK TO one_file")
        if exc.errno in _FOLDER_FULL:
            raise DatabaseError(_stop_reason(db, exc)) from exc
        summary.copy_failed.append(f"{path} ({type(exc).__name__}: {exc})")
        stored = None
    conn.execute("RELEASE one_file")
    if stored:
        summary.imported += 1
        summary.frames += len(header["images"])
        summary.objects += header["images"][0]["kind"] == OBJECT
    elif stored is False:
        summary.already_present += 1
    return stored


def store_batch(
    db: Database, items: list[tuple[Path, dict[str, Any]]], summary: ImportSummary, *, copy: Copy = True
) -> list[tuple[Path, dict[str, Any]]]:
    """Index files whose headers were read (:func:`read_header`, with its checks) in one transaction
    with their copies: all of it lands, or none of it (copies removed). Returns the items stored (not
    those already present, nor those whose copy failed: ``summary`` counts them).

    ``copy``: True copies each file into the database folder, :data:`LINK` gives it a second name
    there (a file already owner-only on the same file system: one the DICOM node received), False
    indexes it where it is. Raises DatabaseError when the database folder or its index cannot be
    written (disk full, quota, read-only): nothing of the batch is kept.
    """
    copies: list[Path] = []
    stored: list[tuple[Path, dict[str, Any]]] = []
    before = (summary.imported, summary.already_present, summary.frames, summary.objects, len(summary.copy_failed))
    try:
        with db.transaction() as conn:
            for item in items:
                if _store_one(db, conn, item, copy, copies, summary):
                    stored.append(item)
    except (sqlite3.OperationalError, OSError, DatabaseError) as exc:
        for target in copies:
            target.unlink(missing_ok=True)
            target.with_suffix(".part").unlink(missing_ok=True)
        summary.imported, summary.already_present, summary.frames, summary.objects = before[:4]
        del summary.copy_failed[before[4] :]
        if copy:
            db.clear_journal()
        reason = str(exc) if isinstance(exc, DatabaseError) else _stop_reason(db, exc)
        raise DatabaseError(reason) from exc
    if copy:
        db.clear_journal()
    return stored


def import_paths(
    db: Database,
    paths: Iterable[str | os.PathLike[str]],
    *,
    copy: bool = True,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ImportSummary:
    """Import files and folders; ``copy`` puts the files into the database folder as OsiriX does.

    Never raises for a bad file: it is counted in the summary, and so is a file whose copy fails
    (the rest goes on). When the database folder cannot be written (disk full, quota, read-only),
    the batch under way is rolled back, its copies removed, and the import stops: ``stopped`` says
    why and ``not_imported`` how many files were left. ``progress(done, total)`` is called after
    each batch. Setting ``cancel`` (or closing the database) stops the import after the current
    file; what was imported stays.
    """
    started = time.perf_counter()
    summary = ImportSummary()
    files = _expand_dicomdirs(find_files(paths), summary)

    def stopped() -> bool:
        return bool((cancel is not None and cancel.is_set()) or db.closing.is_set())

    start = 0
    while start < len(files) and not summary.stopped:
        if stopped():
            summary.cancelled = True
            break
        batch = files[start : start + BATCH]
        headers = []
        for path in batch:
            if stopped():
                break
            header = _read_one(path, files, summary)
            if header is not None:
                headers.append((path, header))
        try:
            store_batch(db, headers, summary, copy=copy)
        except DatabaseError as exc:
            summary.stopped = str(exc)
            summary.not_imported = len(files) - start
            break
        start += len(batch)
        if progress:
            progress(start, len(files))
        if stopped() and start < len(files):
            summary.cancelled = True
            break
    summary.seconds = time.perf_counter() - started
    return summary

"""OsiriX's own conventions for the database model: orders, names, derived values.

Each function says which OsiriX behaviour it reproduces; where the reference is silent the
choice is written down here.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from .dates import parse_dicom_datetime
from .index import Database, ImageRow, SeriesRow, StudyRow

__all__ = [
    "normal_of",
    "plane_position",
    "sorted_images",
    "image_datetime",
    "study_datetime",
    "sort_series",
    "study_name",
    "patient_uid",
    "modalities",
    "browser_order",
]


def normal_of(orientation: list[float] | None) -> np.ndarray | None:
    """The slice normal: row direction x column direction of ImageOrientationPatient."""
    if not orientation:
        return None
    row, column = np.asarray(orientation[:3], float), np.asarray(orientation[3:6], float)
    return np.cross(row, column)


def plane_position(image: ImageRow) -> float | None:
    """Position of the plane along its normal (ImagePositionPatient . normal)."""
    normal = normal_of(image.orientation_6)
    position = image.position_xyz
    if normal is None or position is None:
        return None
    return float(np.dot(np.asarray(position, float), normal))


def sorted_images(images: list[ImageRow]) -> list[ImageRow]:
    """OsiriX's plane order: ascending position along the slice normal.

    Images without geometry keep instance-number order (then import order) after those with it;
    this fallback is our choice, the reference only covers images with geometry.
    """

    def key(image: ImageRow) -> tuple[int, float, int, int]:
        position = plane_position(image)
        number = image.instance_number if image.instance_number is not None else 0
        if position is None:
            return (1, 0.0, number, image.id)
        return (0, position, number, image.id)

    return sorted(images, key=key)


def image_datetime(image: ImageRow) -> dt.datetime | None:
    """Acquisition date + time (falling back to content, series, study date) to the millisecond."""
    if not image.acquired:
        return None
    date, _, time_of_day = image.acquired.partition("|")
    return parse_dicom_datetime(date, time_of_day)


def study_datetime(images: list[ImageRow]) -> dt.datetime | None:
    """OsiriX's study date: the earliest acquisition date-time of its images (not StudyTime)."""
    dates = [d for d in (image_datetime(i) for i in images) if d]
    return min(dates) if dates else None


def sort_series(series: list[SeriesRow]) -> list[SeriesRow]:
    """The browser's series order within a study: series number, then import order.

    OsiriX sorts a study's series by their ``id`` (the DICOM SeriesNumber); series without a
    number come last.
    """
    return sorted(series, key=lambda s: (s.series_number is None, s.series_number or 0, s.id))


def study_name(study: StudyRow) -> str:
    """The study description as OsiriX shows it: each word capitalised (NSString capitalizedString)."""
    words = study.study_description.split(" ")
    return " ".join(w[:1].upper() + w[1:].lower() for w in words)


def patient_uid(study: StudyRow) -> str:
    """OsiriX's patient key: name, ID and birth date (YYYYMMDD) joined by '-', upper-cased."""
    birth = (study.patient_birth_date or "").replace("-", "").replace(".", "")[:8]
    return f"{study.patient_name}-{study.patient_id}-{birth}".upper()


def modalities(series: list[SeriesRow]) -> str:
    """The study's modality summary, as Horos ``DicomStudy displayedModalitiesForSeries:`` builds it.

    Distinct modalities in series order, joined by '\\'; RTSTRUCT shows as RT; KO is left out; SR,
    PR, SC and OT appear only when the study has no other modality (SC, else OT, else SR and PR).
    """
    seen: list[str] = []
    flags = {"SR": False, "SC": False, "PR": False, "OT": False}
    for item in sort_series(series):
        modality = item.modality
        if modality in flags:
            flags[modality] = True
        elif modality == "RTSTRUCT":
            if "RT" not in seen:
                seen.append("RT")
        elif modality and modality != "KO" and modality not in seen:
            seen.append(modality)
    if not seen:
        if flags["SC"]:
            seen.append("SC")
        elif flags["OT"]:
            seen.append("OT")
        else:
            seen.extend(m for m in ("SR", "PR") if flags[m])
    return "\\".join(seen)


def browser_order(db: Database) -> list[StudyRow]:
    """Studies in the browser's order.

    OsiriX's browser sorts by patient name by default; we break ties by study date and then
    import order (the reference does not say; this is the browser's secondary order).
    """

    studies = db.studies()
    names: dict[str, int] = {}
    for study in studies:
        names[study.patient_name.lower()] = names.get(study.patient_name.lower(), 0) + 1

    def key(study: StudyRow) -> tuple[str, str, int]:
        name = study.patient_name.lower()
        if names[name] == 1:  # the date only breaks ties: the images are read for those alone
            return (name, "", study.id)
        date = study_datetime(db.images_of_study(study.id))
        return (name, date.isoformat() if date else "", study.id)

    return sorted(studies, key=key)

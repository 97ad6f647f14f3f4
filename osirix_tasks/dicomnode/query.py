"""C-FIND, C-MOVE and C-GET over the emulator's index, at patient, study, series and image level.

Candidates come from SQLite (narrowed by the UIDs the identifier gives); each is then matched on
every key of the identifier (:mod:`.matching`). Attributes the index keeps (UIDs, counts,
modality, descriptions, instance numbers) come from it; the others, and the names as written in
the files (the index keeps them as OsiriX shows them), from the header of one file of the entity,
read within the importer's bounds and cached. Series are DICOM series (OsiriX's split of a
multi-echo MR series is one series here).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from ..emulator.database.dicomread import read_dicom_header
from ..emulator.database.index import Database
from ..errors import DicomNodeError
from .matching import is_universal, matches

__all__ = ["LEVELS", "IndexQuery", "Entity", "MAX_MATCHES", "files_to_send"]

log = logging.getLogger(__name__)
LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
#: Matches answered at most for one request (a C-MOVE or C-GET is limited to 65535 instances by DICOM).
MAX_MATCHES = 50_000
_HEADER_CACHE = 512
_NOT_KEYS = {"QueryRetrieveLevel", "SpecificCharacterSet", "RetrieveAETitle", "InstanceAvailability"}

_PATIENT_SQL = """
SELECT patient_id, MIN(patient_name), MIN(patient_birth_date), MIN(patient_sex), COUNT(*),
       (SELECT COUNT(DISTINCT s.series_instance_uid) FROM series s JOIN studies t ON s.study_id = t.id
          WHERE t.patient_id = studies.patient_id),
       (SELECT COUNT(DISTINCT i.sop_instance_uid) FROM images i JOIN series s ON i.series_id = s.id
          JOIN studies t ON s.study_id = t.id WHERE t.patient_id = studies.patient_id),
       (SELECT i.path FROM images i JOIN series s ON i.series_id = s.id JOIN studies t ON s.study_id = t.id
          WHERE t.patient_id = studies.patient_id LIMIT 1)
FROM studies {where} GROUP BY patient_id ORDER BY MIN(id)
"""
_STUDY_SQL = """
SELECT studies.id, study_instance_uid, patient_id, patient_name, patient_birth_date, patient_sex,
       study_description, institution_name, referring_physician,
       (SELECT COUNT(DISTINCT series_instance_uid) FROM series WHERE study_id = studies.id),
       (SELECT COUNT(DISTINCT i.sop_instance_uid) FROM images i JOIN series s ON i.series_id = s.id
          WHERE s.study_id = studies.id),
       (SELECT GROUP_CONCAT(DISTINCT modality) FROM series WHERE study_id = studies.id),
       (SELECT i.path FROM images i JOIN series s ON i.series_id = s.id WHERE s.study_id = studies.id LIMIT 1)
FROM studies {where} ORDER BY studies.id
"""
_SERIES_SQL = """
SELECT studies.study_instance_uid, studies.patient_id, series.series_instance_uid, MIN(series.modality),
       MIN(series.description), MIN(series.series_number), MIN(series.sop_class_uid),
       (SELECT COUNT(DISTINCT i.sop_instance_uid) FROM images i JOIN series s ON i.series_id = s.id
          WHERE s.study_id = studies.id AND s.series_instance_uid = series.series_instance_uid),
       (SELECT i.path FROM images i JOIN series s ON i.series_id = s.id
          WHERE s.study_id = studies.id AND s.series_instance_uid = series.series_instance_uid LIMIT 1)
FROM series JOIN studies ON series.study_id = studies.id {where}
GROUP BY studies.id, series.series_instance_uid ORDER BY MIN(series.id)
"""
_IMAGE_SQL = """
SELECT studies.study_instance_uid, studies.patient_id, series.series_instance_uid, series.sop_class_uid,
       series.modality, images.sop_instance_uid, images.instance_number, images.rows, images.columns,
       images.number_of_frames, images.path
FROM images JOIN series ON images.series_id = series.id JOIN studies ON series.study_id = studies.id
{where} AND images.frame = 0 GROUP BY series.series_instance_uid, images.sop_instance_uid ORDER BY MIN(images.id)
"""


@dataclass
class Entity:
    """One patient, study, series or instance: what the index says of it, and one of its files."""

    attributes: dict[str, Any]
    sample: str | None
    #: How to list the files of every instance it holds (for C-MOVE and C-GET).
    scope: tuple[str, str] = ("", "")
    extra: dict[str, Any] = field(default_factory=dict)


#: The identifier's keys that narrow the SQL candidates, with their columns and the levels they apply to.
_NARROWING = (
    ("PatientID", "studies.patient_id", LEVELS),
    ("StudyInstanceUID", "studies.study_instance_uid", LEVELS),
    ("SeriesInstanceUID", "series.series_instance_uid", ("SERIES", "IMAGE")),
    ("SOPInstanceUID", "images.sop_instance_uid", ("IMAGE",)),
)


def _narrowing(level: str, identifier: Dataset) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) the identifier's UIDs and exact patient ID allow."""
    conditions: list[str] = []
    args: list[Any] = []
    for keyword, column, levels in _NARROWING:
        values = _uids(identifier, keyword) if level in levels else []
        if keyword == "PatientID" and any("*" in v or "?" in v for v in values):
            continue  # a pattern: matched afterwards
        if values:
            conditions.append(f"{column} IN ({', '.join('?' for _ in values)})")
            args.extend(values)
    where = "WHERE " + " AND ".join(conditions) if conditions else ("WHERE 1" if level == "IMAGE" else "")
    return (where.replace("studies.", "") if level == "PATIENT" else where), args


def _uids(identifier: Dataset, keyword: str) -> list[str]:
    value = identifier.get(keyword)
    if is_universal(value):
        return []
    items = list(value) if isinstance(value, list | tuple | MultiValue) else str(value).split("\\")
    return [str(v).strip() for v in items if str(v).strip()]


class IndexQuery:
    """Answers query/retrieve identifiers from one database."""

    def __init__(self, db: Database):
        self.db = db
        self._headers: OrderedDict[str, Dataset | None] = OrderedDict()
        self._lock = threading.Lock()

    # --- public ----------------------------------------------------------------------------

    def find(self, identifier: Dataset, cancelled: Callable[[], bool] = lambda: False) -> Iterator[Dataset]:
        """The responses to a C-FIND identifier (DicomNodeError for a bad level)."""
        level = self._level(identifier)
        keys = [e for e in identifier if e.keyword and e.keyword not in _NOT_KEYS]
        count = 0
        for entity in self._entities(level, identifier):
            if cancelled():
                return
            attributes = self._attributes(entity, [e.keyword for e in keys])
            if not all(matches(e.value, attributes.get(e.keyword), e.VR) for e in keys):
                continue
            count += 1
            if count > MAX_MATCHES:
                log.warning("C-FIND answered its first %d matches only (narrow the query)", MAX_MATCHES)
                return
            yield self._response(level, identifier, keys, attributes)

    def files(self, identifier: Dataset) -> list[Path]:
        """The file of every instance a C-MOVE or C-GET identifier asks for."""
        level = self._level(identifier)
        keys = [e for e in identifier if e.keyword and e.keyword not in _NOT_KEYS]
        paths: dict[str, None] = {}
        for entity in self._entities(level, identifier):
            attributes = self._attributes(entity, [e.keyword for e in keys])
            if not all(matches(e.value, attributes.get(e.keyword), e.VR) for e in keys):
                continue
            for path in self._paths(entity):
                paths[path] = None
            if len(paths) > 65535:
                raise DicomNodeError("more than 65535 instances match - retrieve fewer at a time (DICOM's limit)")
        return [Path(p) for p in paths]

    # --- levels and entities ---------------------------------------------------------------

    @staticmethod
    def _level(identifier: Dataset) -> str:
        level = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
        if level not in LEVELS:
            raise DicomNodeError(f"QueryRetrieveLevel {level or '(missing)'!r} - use one of {', '.join(LEVELS)}")
        return level

    def _entities(self, level: str, identifier: Dataset) -> Iterator[Entity]:
        where, args = _narrowing(level, identifier)
        sql = {"PATIENT": _PATIENT_SQL, "STUDY": _STUDY_SQL, "SERIES": _SERIES_SQL, "IMAGE": _IMAGE_SQL}[level]
        for row in self.db.connection().execute(sql.format(where=where), args):
            yield _ENTITY_OF[level](row)

    def _paths(self, entity: Entity) -> list[str]:
        kind, value = entity.scope
        conn = self.db.connection()
        sql = {
            "patient": "SELECT DISTINCT i.path FROM images i JOIN series s ON i.series_id = s.id "
            "JOIN studies t ON s.study_id = t.id WHERE t.patient_id = ? ORDER BY i.id",
            "study": "SELECT DISTINCT i.path FROM images i JOIN series s ON i.series_id = s.id "
            "JOIN studies t ON s.study_id = t.id WHERE t.study_instance_uid = ? ORDER BY i.id",
            "series": "SELECT DISTINCT i.path FROM images i JOIN series s ON i.series_id = s.id "
            "JOIN studies t ON s.study_id = t.id WHERE t.study_instance_uid = ? AND s.series_instance_uid = ? "
            "ORDER BY i.id",
        }
        if kind == "image":
            return [entity.sample] if entity.sample else []
        args = (entity.attributes["StudyInstanceUID"], value) if kind == "series" else (value,)
        return [row[0] for row in conn.execute(sql[kind], args)]

    # --- attributes ------------------------------------------------------------------------

    def _attributes(self, entity: Entity, keywords: list[str]) -> dict[str, Any]:
        attributes = dict(entity.attributes)
        wanted = [k for k in keywords if k not in attributes or k in _FROM_FILE]
        if wanted and entity.sample:
            header = self._header(entity.sample)
            if header is not None:
                for keyword in wanted:
                    if keyword in _COMPUTED:
                        continue
                    try:
                        value = header.get(keyword)
                    except Exception:  # noqa: BLE001 - a malformed value: absent
                        value = None
                    if value is not None:
                        attributes[keyword] = value
        return attributes

    def _header(self, path: str) -> Dataset | None:
        with self._lock:
            if path in self._headers:
                self._headers.move_to_end(path)
                return self._headers[path]
        try:
            header: Dataset | None = read_dicom_header(Path(path))
        except Exception as exc:  # noqa: BLE001 - a file gone or unreadable: the index's values only
            log.warning("cannot read %s for a query (%s)", path, exc)
            header = None
        with self._lock:
            self._headers[path] = header
            while len(self._headers) > _HEADER_CACHE:
                self._headers.popitem(last=False)
        return header

    @staticmethod
    def _response(level: str, identifier: Dataset, keys: list[Any], attributes: dict[str, Any]) -> Dataset:
        response = Dataset()
        response.QueryRetrieveLevel = level
        if "SpecificCharacterSet" in identifier or "SpecificCharacterSet" in attributes:
            response.SpecificCharacterSet = attributes.get("SpecificCharacterSet") or "ISO_IR 192"
        for element in keys:
            value = attributes.get(element.keyword)
            if element.VR == "SQ":
                setattr(response, element.keyword, [])
                continue
            try:
                setattr(response, element.keyword, _as_value(value))
            except (TypeError, ValueError, OverflowError):
                setattr(response, element.keyword, None)
        return response


#: Values taken from a file even though the index has a form of them (names as written, etc.).
_FROM_FILE = {"PatientName", "ReferringPhysicianName", "PatientBirthDate", "SpecificCharacterSet"}
_COMPUTED = {
    "NumberOfPatientRelatedStudies",
    "NumberOfPatientRelatedSeries",
    "NumberOfPatientRelatedInstances",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
    "NumberOfSeriesRelatedInstances",
    "ModalitiesInStudy",
}


def _as_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return value


def _patient(row: Any) -> Entity:
    patient_id, name, birth, sex, studies, series, instances, sample = row
    return Entity(
        {
            "PatientID": patient_id,
            "PatientName": name,
            "PatientBirthDate": birth,
            "PatientSex": sex,
            "NumberOfPatientRelatedStudies": studies,
            "NumberOfPatientRelatedSeries": series,
            "NumberOfPatientRelatedInstances": instances,
        },
        sample,
        ("patient", patient_id),
    )


def _study(row: Any) -> Entity:
    (
        _id,
        uid,
        patient_id,
        name,
        birth,
        sex,
        description,
        institution,
        referring,
        series,
        instances,
        modalities,
        sample,
    ) = row
    return Entity(
        {
            "StudyInstanceUID": uid,
            "PatientID": patient_id,
            "PatientName": name,
            "PatientBirthDate": birth,
            "PatientSex": sex,
            "StudyDescription": description,
            "InstitutionName": institution,
            "ReferringPhysicianName": referring,
            "NumberOfStudyRelatedSeries": series,
            "NumberOfStudyRelatedInstances": instances,
            "ModalitiesInStudy": sorted((modalities or "").split(",")) if modalities else [],
        },
        sample,
        ("study", uid),
    )


def _series(row: Any) -> Entity:
    study_uid, patient_id, uid, modality, description, number, sop_class, instances, sample = row
    return Entity(
        {
            "StudyInstanceUID": study_uid,
            "PatientID": patient_id,
            "SeriesInstanceUID": uid,
            "Modality": modality,
            "SeriesDescription": description,
            "SeriesNumber": number,
            "NumberOfSeriesRelatedInstances": instances,
        },
        sample,
        ("series", uid),
        {"sop_class": sop_class},
    )


def _image(row: Any) -> Entity:
    study_uid, patient_id, series_uid, sop_class, modality, uid, number, rows, columns, frames, path = row
    attributes = {
        "StudyInstanceUID": study_uid,
        "PatientID": patient_id,
        "SeriesInstanceUID": series_uid,
        "SOPClassUID": sop_class,
        "Modality": modality,
        "SOPInstanceUID": uid,
        "InstanceNumber": number,
    }
    if rows:
        attributes.update({"Rows": rows, "Columns": columns, "NumberOfFrames": frames})
    return Entity(attributes, path, ("image", uid))


_ENTITY_OF: dict[str, Callable[[Any], Entity]] = {
    "PATIENT": _patient,
    "STUDY": _study,
    "SERIES": _series,
    "IMAGE": _image,
}


def files_to_send(
    db: Database, *, study: str | None = None, series: str | None = None, modalities: list[str] | None = None
) -> list[Path]:
    """The files of a study or a series of the database (only its series of ``modalities`` when given:
    a task's SEG and SR results, say); DicomNodeError when nothing matches."""
    if not (study or series):
        raise DicomNodeError("name a study (StudyInstanceUID) or a series (SeriesInstanceUID) to send")
    ask = Dataset()
    ask.QueryRetrieveLevel = "SERIES" if series or modalities else "STUDY"
    ask.StudyInstanceUID = study or ""
    if series or modalities:
        ask.SeriesInstanceUID = series or ""
        ask.Modality = "\\".join(m.upper() for m in modalities or [])
    files = IndexQuery(db).files(ask)
    if not files:
        what = f"series {series}" if series else f"study {study}"
        only = f" with modality {', '.join(modalities)}" if modalities else ""
        raise DicomNodeError(f"no {what}{only} in the database {db.folder} - see 'osirix-tasks db studies'")
    return files

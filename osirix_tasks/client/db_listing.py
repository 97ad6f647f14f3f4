"""The database as the browser lists it: studies and series with their UIDs, over OsiriXgrpc.

Works against any OsiriX (real or embedded): only the plugin's RPCs are used. Whatever OsiriX may
answer ``... not available`` for (a patient name, a description, even a UID) is listed empty, never
an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from osirixgrpc import utilities_pb2

from ..errors import OsirixError, OsirixTasksError
from .connection import Connection

__all__ = ["StudyInfo", "SeriesInfo", "list_studies", "list_series", "find_study"]

_EMPTY = utilities_pb2.Empty()


@dataclass
class StudyInfo:
    """One study of the browser."""

    study_instance_uid: str
    patient_name: str
    patient_id: str
    description: str
    date: str | None
    modalities: str
    images: int
    series: int
    ref: Any = field(repr=False, compare=False, default=None)

    def to_json(self) -> dict[str, Any]:
        """Plain data (without the object reference)."""
        return {k: v for k, v in vars(self).items() if k != "ref"}


@dataclass
class SeriesInfo:
    """One series of a study; ``series_instance_uid`` as OsiriX keeps it (MR echoes: ``UID TE-x``)."""

    series_instance_uid: str
    description: str
    modality: str
    date: str | None
    images: int
    study_instance_uid: str
    patient_name: str
    ref: Any = field(repr=False, compare=False, default=None)

    def to_json(self) -> dict[str, Any]:
        """Plain data (without the object reference)."""
        return {k: v for k, v in vars(self).items() if k != "ref"}


def _optional(connection: Connection, rpc: str, request: Any, name: str) -> Any:
    """A field OsiriX may not have (status 0 ``... not available``): None then."""
    try:
        return getattr(connection.call(rpc, request), name)
    except OsirixError:
        return None


def _date(connection: Connection, rpc: str, request: Any) -> str | None:
    try:
        d = connection.call(rpc, request)
    except OsirixError:
        return None
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"


def _study(connection: Connection, ref: Any) -> StudyInfo:
    call = connection.call
    return StudyInfo(
        study_instance_uid=_optional(connection, "DicomStudyStudyInstanceUID", ref, "study_instance_uid") or "",
        patient_name=_optional(connection, "DicomStudyName", ref, "name") or "",
        patient_id=_optional(connection, "DicomStudyPatientID", ref, "patient_id") or "",
        description=_optional(connection, "DicomStudyStudyName", ref, "study_name") or "",
        date=_date(connection, "DicomStudyDate", ref),
        modalities=_optional(connection, "DicomStudyModalities", ref, "modalities") or "",
        images=int(_optional(connection, "DicomStudyNumberOfImages", ref, "no_images") or 0),
        series=len(call("DicomStudySeries", ref).series),
        ref=ref,
    )


def list_studies(connection: Connection) -> list[StudyInfo]:
    """Every study in the browser's order."""
    browser = connection.call("OsirixCurrentBrowser", _EMPTY).browser_controller
    return [_study(connection, ref) for ref in connection.call("BrowserControllerDatabaseStudies", browser).studies]


def find_study(connection: Connection, study_uid: str) -> StudyInfo:
    """The study with this StudyInstanceUID; OsirixTasksError listing the known ones otherwise."""
    studies = list_studies(connection)
    for study in studies:
        if study.study_instance_uid == study_uid:
            return study
    known = ", ".join(s.study_instance_uid for s in studies) or "the database is empty"
    raise OsirixTasksError(
        f"no study with StudyInstanceUID {study_uid} at {connection.address} ({known}) - see 'osirix-tasks db studies'"
    )


def list_series(connection: Connection, study_uid: str | None = None) -> list[SeriesInfo]:
    """The series of one study (by StudyInstanceUID), or of every study, in the browser's order."""
    studies = [find_study(connection, study_uid)] if study_uid else list_studies(connection)
    found = []
    for study in studies:
        for ref in connection.call("DicomStudySeries", study.ref).series:
            found.append(
                SeriesInfo(
                    series_instance_uid=_optional(
                        connection, "DicomSeriesSeriesInstanceUID", ref, "series_instance_uid"
                    )
                    or "",
                    description=_optional(connection, "DicomSeriesSeriesDescription", ref, "series_description") or "",
                    modality=_optional(connection, "DicomSeriesModality", ref, "modality") or "",
                    date=_date(connection, "DicomSeriesDate", ref),
                    images=int(_optional(connection, "DicomSeriesNumberOfImages", ref, "number_of_images") or 0),
                    study_instance_uid=study.study_instance_uid,
                    patient_name=study.patient_name,
                    ref=ref,
                )
            )
    return found

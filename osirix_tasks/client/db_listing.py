"""The database as the browser lists it: studies and series with their UIDs and the selection, over
OsiriXgrpc.

Works against any OsiriX (real or embedded): only the plugin's RPCs are used. Whatever OsiriX may
answer ``... not available`` for (a patient name, a description, even a UID) is listed empty, never
an error. Each level of the
listing is asked in one go (:meth:`Connection.call_many`): the studies, then every field of every
study, then every field of every series, so a listing costs three round trips, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from osirixgrpc import types_pb2, utilities_pb2

from ..errors import OsirixError, OsirixTasksError
from .connection import Connection

__all__ = [
    "StudyInfo",
    "SeriesInfo",
    "list_studies",
    "list_series",
    "find_study",
    "browser_listing",
    "format_date",
    "middle_image_path",
]

_EMPTY = utilities_pb2.Empty()
_HIDDEN = ("ref", "series_list")


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
    #: The series' ``osirixrpc_uid`` while OsiriX keeps it; whether the browser has it selected.
    uid: str = ""
    selected: bool = False
    ref: Any = field(repr=False, compare=False, default=None)

    def to_json(self) -> dict[str, Any]:
        """Plain data (without the object reference)."""
        return {k: v for k, v in vars(self).items() if k not in _HIDDEN}


@dataclass
class StudyInfo:
    """One study of the browser (``series_list``: its series, when the listing asked for them)."""

    study_instance_uid: str
    patient_name: str
    patient_id: str
    description: str
    date: str | None
    modalities: str
    images: int
    series: int
    uid: str = ""
    selected: bool = False
    ref: Any = field(repr=False, compare=False, default=None)
    series_list: list[SeriesInfo] = field(repr=False, compare=False, default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain data (without the object reference and the series)."""
        return {k: v for k, v in vars(self).items() if k not in _HIDDEN}


def format_date(answer: Any) -> str | None:
    """A date answer (``DicomStudyDate`` ...) as ``YYYY-MM-DD HH:MM:SS``: OsiriX keeps seconds (the
    plugin sends them); None when OsiriX has no date."""
    if isinstance(answer, OsirixError) or answer is None or not answer.year:
        return None
    return (
        f"{answer.year:04d}-{answer.month:02d}-{answer.day:02d} "
        f"{answer.hour:02d}:{answer.minute:02d}:{answer.second:02d}"
    )


def _value(answer: Any, name: str, default: Any) -> Any:
    """A field of an answer; ``default`` when OsiriX does not have it (status 0 ``... not available``)."""
    return default if isinstance(answer, OsirixError) else getattr(answer, name)


def _required(answer: Any) -> Any:
    if isinstance(answer, OsirixError):
        raise answer
    return answer


_STUDY_CALLS = (
    "DicomStudyStudyInstanceUID",
    "DicomStudyName",
    "DicomStudyPatientID",
    "DicomStudyStudyName",
    "DicomStudyDate",
    "DicomStudyModalities",
    "DicomStudyNumberOfImages",
    "DicomStudySeries",
)
_SERIES_CALLS = (
    "DicomSeriesSeriesInstanceUID",
    "DicomSeriesSeriesDescription",
    "DicomSeriesModality",
    "DicomSeriesDate",
    "DicomSeriesNumberOfImages",
)


def _study(ref: Any, answers: list[Any], selected: set[str]) -> StudyInfo:
    uid, name, patient_id, description, date, modalities, images, series = answers
    return StudyInfo(
        study_instance_uid=_value(uid, "study_instance_uid", ""),
        patient_name=_value(name, "name", ""),
        patient_id=_value(patient_id, "patient_id", ""),
        description=_value(description, "study_name", ""),
        date=format_date(date),
        modalities=_value(modalities, "modalities", ""),
        images=int(_value(images, "no_images", 0)),
        series=len(_required(series).series),
        uid=ref.osirixrpc_uid,
        selected=ref.osirixrpc_uid in selected,
        ref=ref,
    )


def _add_series(connection: Connection, studies: list[tuple[StudyInfo, list[Any]]], selected: set[str]) -> None:
    calls = [(rpc, ref) for _, refs in studies for ref in refs for rpc in _SERIES_CALLS]
    answers = iter(connection.call_many(calls))
    for study, refs in studies:
        for ref in refs:
            uid, description, modality, date, images = (next(answers) for _ in _SERIES_CALLS)
            study.series_list.append(
                SeriesInfo(
                    series_instance_uid=_value(uid, "series_instance_uid", ""),
                    description=_value(description, "series_description", ""),
                    modality=_value(modality, "modality", ""),
                    date=format_date(date),
                    images=int(_value(images, "number_of_images", 0)),
                    study_instance_uid=study.study_instance_uid,
                    patient_name=study.patient_name,
                    uid=ref.osirixrpc_uid,
                    selected=ref.osirixrpc_uid in selected,
                    ref=ref,
                )
            )


def browser_listing(connection: Connection, *, with_series: bool = True) -> list[StudyInfo]:
    """Every study in the browser's order, with the browser's selection and (``with_series``) each
    study's series in ``series_list``."""
    browser = connection.call("OsirixCurrentBrowser", _EMPTY).browser_controller
    listing, selection = connection.call_many(
        [("BrowserControllerDatabaseStudies", browser), ("BrowserControllerDatabaseSelection", browser)]
    )
    refs = list(_required(listing).studies)
    chosen = _required(selection)
    selected = {s.osirixrpc_uid for s in chosen.studies} | {s.osirixrpc_uid for s in chosen.series}
    answers = connection.call_many([(rpc, ref) for ref in refs for rpc in _STUDY_CALLS])
    width = len(_STUDY_CALLS)
    studies = []
    for index, ref in enumerate(refs):
        row = answers[index * width : (index + 1) * width]
        studies.append((_study(ref, row, selected), list(_required(row[-1]).series)))
    if with_series:
        _add_series(connection, studies, selected)
    return [study for study, _ in studies]


def list_studies(connection: Connection) -> list[StudyInfo]:
    """Every study in the browser's order."""
    return browser_listing(connection, with_series=False)


def find_study(connection: Connection, study_uid: str) -> StudyInfo:
    """The study with this StudyInstanceUID; OsirixTasksError listing the known ones otherwise."""
    return find_study_in(list_studies(connection), study_uid, connection.address)


def list_series(connection: Connection, study_uid: str | None = None) -> list[SeriesInfo]:
    """The series of one study (by StudyInstanceUID), or of every study, in the browser's order."""
    studies = browser_listing(connection)
    if study_uid is not None:
        studies = [find_study_in(studies, study_uid, connection.address)]
    return [series for study in studies for series in study.series_list]


def find_study_in(studies: list[StudyInfo], study_uid: str, address: str) -> StudyInfo:
    """The study with this StudyInstanceUID among ``studies``; OsirixTasksError listing them otherwise."""
    for study in studies:
        if study.study_instance_uid == study_uid:
            return study
    known = ", ".join(s.study_instance_uid for s in studies) or "the database is empty"
    raise OsirixTasksError(
        f"no study with StudyInstanceUID {study_uid} at {address} ({known}) - see 'osirix-tasks db studies'"
    )


def middle_image_path(connection: Connection, series_uid: str) -> str:
    """The file of a series' middle image (by ``osirixrpc_uid``), as OsiriX names it
    (``DicomImageCompletePath``): where OsiriX's browser draws the series' icon from. OsirixError
    when the series has no images."""
    series = types_pb2.DicomSeries(osirixrpc_uid=series_uid)
    images = list(connection.call("DicomSeriesSortedImages", series).sorted_images)
    if not images:
        raise OsirixError("the series has no images", rpc="DicomSeriesSortedImages")
    return str(connection.call("DicomImageCompletePath", images[len(images) // 2]).complete_path)

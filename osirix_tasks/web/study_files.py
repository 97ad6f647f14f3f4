"""What the database window needs from a study's files that the protocol does not carry, and its export.

The protocol gives a study's and a series' file paths (``DicomStudyPaths``, ``DicomSeriesPaths``) but
not the accession number or the study ID: those are read from one file of the study, header only, and
kept per study (a bounded number). Export copies the files of studies or series into a folder on this
machine, one sub-folder per patient, study and series, as OsiriX's "Export to DICOM files" does. Both
work for a real OsiriX on the same machine too (its files are where it says).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osirixgrpc import types_pb2

from .._support.private import open_private, private_folder
from ..client.db_listing import StudyInfo, format_date
from ..errors import OsirixError, OsirixTasksError
from .header import header_info

if TYPE_CHECKING:
    from ..client import Connection

__all__ = ["StudyFacts", "ExportItem", "export_items", "export_series", "folder_name", "patient_facts"]

#: Studies whose file facts are remembered (each a few short strings).
_KEPT = 4096


class StudyFacts:
    """Accession number and study ID per StudyInstanceUID, read once from a file of the study."""

    def __init__(self, kept: int = _KEPT):
        self._facts: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._kept = kept
        self._lock = threading.Lock()

    def of(self, study_uid: str, first_path: Callable[[], str | None]) -> dict[str, str]:
        """The study's ``accession`` and ``study_id`` ('' when its file lacks them or cannot be read)."""
        with self._lock:
            known = self._facts.get(study_uid)
            if known is not None:
                self._facts.move_to_end(study_uid)
                return known
        path = first_path()
        info = header_info(path) if path else {}
        facts = {"accession": info.get("accession", ""), "study_id": info.get("study_id", "")}
        with self._lock:
            self._facts[study_uid] = facts
            while len(self._facts) > self._kept:
                self._facts.popitem(last=False)
        return facts


def _answer(answer: Any, name: str, default: Any) -> Any:
    return default if isinstance(answer, OsirixError) else getattr(answer, name)


def patient_facts(connection: Connection, studies: list[StudyInfo], facts: StudyFacts) -> dict[str, dict[str, Any]]:
    """Per study (its protocol uid): date of birth and sex (the protocol's), accession number and study ID
    (from a file of the study, once). The calls of every study are sent together."""
    answers = iter(
        connection.call_many(
            [(rpc, study.ref) for study in studies for rpc in ("DicomStudyDateOfBirth", "DicomStudyPatientSex")]
        )
    )
    out: dict[str, dict[str, Any]] = {}
    for study in studies:
        birth, sex = next(answers), next(answers)
        born = (
            None
            if isinstance(birth, OsirixError) or not birth.year
            else f"{birth.year:04d}-{birth.month:02d}-{birth.day:02d}"
        )

        def first_path(study: StudyInfo = study) -> str | None:
            paths = _answer(connection.call_many([("DicomStudyPaths", study.ref)])[0], "paths", [])
            return str(paths[0]) if paths else None

        out[study.uid] = {
            "birth_date": born,
            "sex": _answer(sex, "patient_sex", ""),
            **facts.of(study.study_instance_uid, first_path),
        }
    return out


def export_items(connection: Connection, studies: list[str], series: list[str]) -> list[ExportItem]:
    """The series of these studies and these series (protocol uids), each with its files and the folders
    it is exported into (patient, study, series)."""
    chosen = [types_pb2.DicomSeries(osirixrpc_uid=uid) for uid in series]
    for uid in studies:
        chosen.extend(connection.call("DicomStudySeries", types_pb2.DicomStudy(osirixrpc_uid=uid)).series)
    items, seen = [], set()
    for item in chosen:
        if item.osirixrpc_uid in seen:
            continue
        seen.add(item.osirixrpc_uid)
        study = connection.call("DicomSeriesStudy", item).study
        name, patient_id, description, date, series_description, paths = connection.call_many(
            [
                ("DicomStudyName", study),
                ("DicomStudyPatientID", study),
                ("DicomStudyStudyName", study),
                ("DicomStudyDate", study),
                ("DicomSeriesSeriesDescription", item),
                ("DicomSeriesPaths", item),
            ]
        )
        day = (format_date(date) or "")[:10]
        folders = (
            folder_name(_answer(name, "name", ""), _answer(patient_id, "patient_id", "")),
            folder_name(_answer(description, "study_name", ""), day, fallback="study"),
            folder_name(_answer(series_description, "series_description", ""), fallback="series"),
        )
        files = [str(p) for p in _answer(paths, "paths", [])]
        items.append(ExportItem(folders, list(dict.fromkeys(files))))
    return items


def folder_name(*parts: str, fallback: str = "unnamed") -> str:
    """A file-system-safe folder name from DICOM words (letters, digits, space, '.', '-', '_'; 64 at most)."""
    text = " ".join(p.strip() for p in parts if p and p.strip())
    text = re.sub(r"[^\w .-]+", "_", text, flags=re.ASCII).strip(" .")
    return text[:64] or fallback


@dataclass(frozen=True)
class ExportItem:
    """One series to export: the folders it goes in (patient, study, series) and its files."""

    folders: tuple[str, str, str]
    files: list[str]


def export_series(items: list[ExportItem], folder: str) -> tuple[Path, int]:
    """Copy each series' files into FOLDER/patient/study/series/IM00001.dcm...; the folders are made
    owner-only (0700) and the files too (0600): they hold patient data. Nothing is copied when a file
    would be overwritten or a source file is missing (the error names it). Returns the folder and how
    many files were copied."""
    if not folder or not folder.strip():
        raise OsirixTasksError("folder: give the folder to export into (a path on this machine)")
    root = Path(folder.strip()).expanduser()
    if not root.is_absolute():
        raise OsirixTasksError(f"folder: give a full path (from /), got {folder!r}")
    if root.exists() and not root.is_dir():
        raise OsirixTasksError(f"folder: {root} is a file - give a folder")
    plan: list[tuple[str, Path]] = []
    for item in items:
        target = root.joinpath(*item.folders)
        for number, source in enumerate(item.files, start=1):
            destination = target / f"IM{number:05d}.dcm"
            if not os.path.isfile(source):
                raise OsirixTasksError(
                    f"{source} is missing - OsiriX lists it but the file is gone; nothing was exported"
                )
            if destination.exists():
                raise OsirixTasksError(f"{destination} exists - export into another folder; nothing was exported")
            plan.append((source, destination))
    if not plan:
        raise OsirixTasksError("nothing to export - choose studies or series that have images")
    for source, destination in plan:
        for parent in reversed([destination.parent, *destination.parent.parents]):
            if not parent.exists():  # the folders it makes are private; those the user had are left as they are
                private_folder(parent)
        with os.fdopen(open_private(destination, "xb"), "wb") as out, open(source, "rb") as data:
            shutil.copyfileobj(data, out)
    return root, len(plan)

"""A batch's selection: the targets, from uids (arguments or a file), a query, or the browser selection.

The query language (``--where``) is a list of terms joined by ``and``; each term is
``FIELD OP VALUE``:

- fields: ``modality``, ``series_description``, ``study_description``, ``patient_id``,
  ``patient_name``, ``study_date``, ``series_date``, ``study_uid``, ``series_uid``, ``images``
- ``=`` equal, ``!=`` not equal (text: case-insensitive), ``~`` contains (case-insensitive),
  ``<``, ``<=``, ``>``, ``>=`` (dates as ``YYYY-MM-DD`` or ``YYYYMMDD``, and ``images``)
- a value with spaces is quoted: ``series_description~"t2 axial"``

Example: ``modality=MR and series_description~T2 and study_date>=2020-01-01``. A bad term is
refused naming it and saying what is allowed. Everything is read over OsiriXgrpc, so a selection
works on a real OsiriX too.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osirixgrpc import utilities_pb2

from ..client.connection import Connection
from ..client.db_listing import SeriesInfo, StudyInfo, list_series, list_studies
from ..contract import Target
from ..errors import SelectionError
from ..model import TaskType

__all__ = ["Candidate", "Term", "parse_where", "candidates", "select", "FIELDS"]

#: Query fields and their kind: text, date or number.
FIELDS: dict[str, str] = {
    "modality": "text",
    "series_description": "text",
    "study_description": "text",
    "patient_id": "text",
    "patient_name": "text",
    "study_date": "date",
    "series_date": "date",
    "study_uid": "text",
    "series_uid": "text",
    "images": "number",
}
_OPERATORS = ("!=", ">=", "<=", "=", "~", ">", "<")
_TERM = re.compile(r"^\s*([A-Za-z_]+)\s*(!=|>=|<=|=|~|>|<)\s*(.*?)\s*$", re.S)
_AND = re.compile(r"""\s+and\s+(?=(?:[^"']|"[^"]*"|'[^']*')*$)""", re.I)
_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")


@dataclass(frozen=True)
class Candidate:
    """One series with the attributes a query can test (and a results row shows)."""

    patient_id: str
    patient_name: str
    study_uid: str
    study_description: str
    study_date: str
    series_uid: str
    series_description: str
    modality: str
    series_date: str
    images: int

    def ids(self) -> dict[str, Any]:
        """The identifiers a results row starts with."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Term:
    """One ``FIELD OP VALUE`` term of a query."""

    field: str
    op: str
    value: str
    text: str

    def test(self, candidate: Candidate) -> bool:
        """Whether the candidate satisfies the term."""
        have = getattr(candidate, self.field)
        kind = FIELDS[self.field]
        if kind == "number":
            return _compare(float(have), self.op, float(self.value))
        if kind == "date":
            return bool(have) and _compare(str(have), self.op, self.value)
        left, right = str(have).lower(), self.value.lower()
        if self.op == "~":
            return right in left
        return _compare(left, self.op, right)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compare(left: Any, op: str, right: Any) -> bool:
    return _COMPARE[op](left, right)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _term(text: str, position: int) -> Term:
    where = f"--where term {position} {text.strip()!r}"
    match = _TERM.match(text)
    if not match:
        raise SelectionError(
            f"{where}: not FIELD OP VALUE - write e.g. modality=MR; operators: {' '.join(_OPERATORS)}; "
            "terms are joined by 'and'"
        )
    name, op, raw = match.group(1).lower(), match.group(2), _unquote(match.group(3))
    if name not in FIELDS:
        raise SelectionError(f"{where}: unknown field {name!r} - use one of {', '.join(FIELDS)}")
    if not raw:
        raise SelectionError(f"{where}: no value after {op!r} - give one (quote it when it has spaces)")
    kind = FIELDS[name]
    if kind == "date":
        found = _DATE.match(raw)
        if not found:
            raise SelectionError(f"{where}: {raw!r} is not a date - write YYYY-MM-DD (or YYYYMMDD)")
        raw = "-".join(found.groups())
    elif kind == "number":
        if not re.fullmatch(r"\d+", raw):
            raise SelectionError(f"{where}: {name} is a count of images - give a whole number, not {raw!r}")
    elif op in ("<", "<=", ">", ">="):
        raise SelectionError(
            f"{where}: {op!r} compares dates and numbers and {name} is text - use = != or ~ (contains)"
        )
    if op == "~" and kind != "text":
        raise SelectionError(f"{where}: '~' (contains) is for text and {name} is a {kind} - use = < <= > >=")
    return Term(name, op, raw, text.strip())


def parse_where(text: str) -> list[Term]:
    """The terms of a ``--where`` query; SelectionError naming the first bad term."""
    if not text.strip():
        raise SelectionError("--where is empty - give terms such as modality=MR and study_date>=2020-01-01")
    return [_term(part, i) for i, part in enumerate(_AND.split(text.strip()), start=1)]


def _day(moment: str | None) -> str:
    return (moment or "")[:10]


def candidates(connection: Connection) -> list[Candidate]:
    """Every series of the database with its study's attributes, in the browser's order."""
    studies: dict[str, StudyInfo] = {s.study_instance_uid: s for s in list_studies(connection)}
    rows = []
    for series in list_series(connection):
        study = studies.get(series.study_instance_uid)
        rows.append(_candidate(series, study))
    return rows


def _candidate(series: SeriesInfo, study: StudyInfo | None) -> Candidate:
    return Candidate(
        patient_id=study.patient_id if study else "",
        patient_name=series.patient_name,
        study_uid=series.study_instance_uid,
        study_description=study.description if study else "",
        study_date=_day(study.date if study else None),
        series_uid=series.series_instance_uid,
        series_description=series.description,
        modality=series.modality,
        series_date=_day(series.date),
        images=series.images,
    )


def read_uid_file(path: Path) -> list[str]:
    """UIDs from a file, one per line (blank lines and ``#`` comments skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SelectionError(
            f"cannot read the uid file {path}: {exc} - give a text file with one uid per line"
        ) from None
    uids = []
    for number, line in enumerate(text.splitlines(), start=1):
        uid = line.split("#", 1)[0].strip()
        if not uid:
            continue
        if any(c.isspace() for c in uid.replace(" TE-", "")):
            raise SelectionError(f"{path}:{number}: {uid!r} is not a uid - one uid per line")
        uids.append(uid)
    return uids


def _browser_selection(connection: Connection) -> tuple[list[str], list[str]]:
    browser = connection.call("OsirixCurrentBrowser", utilities_pb2.Empty()).browser_controller
    selection = connection.call("BrowserControllerDatabaseSelection", browser)
    studies = [connection.call("DicomStudyStudyInstanceUID", s).study_instance_uid for s in selection.studies]
    series = [connection.call("DicomSeriesSeriesInstanceUID", s).series_instance_uid for s in selection.series]
    return studies, series


def _study_ids(rows: list[Candidate]) -> dict[str, Any]:
    first = rows[0].ids()
    keep = ("patient_id", "patient_name", "study_uid", "study_description", "study_date")
    return {k: first[k] for k in keep} | {"series": len(rows)}


def _targets_for_uids(
    uids: Iterable[str], rows: list[Candidate], task_type: TaskType, origin: str, *, expand: bool = False
) -> list[tuple[Target, dict[str, Any]]]:
    by_series = {c.series_uid: c for c in rows}
    by_study: dict[str, list[Candidate]] = {}
    for c in rows:
        by_study.setdefault(c.study_uid, []).append(c)
    found: list[tuple[Target, dict[str, Any]]] = []
    for uid in uids:
        if uid in by_series:
            c = by_series[uid]
            found.append((Target(study=c.study_uid, series=c.series_uid), c.ids()))
        elif uid in by_study and expand and task_type != TaskType.DATABASE:
            found += [(Target(study=c.study_uid, series=c.series_uid), c.ids()) for c in by_study[uid]]
        elif uid in by_study:
            if task_type != TaskType.DATABASE:
                raise SelectionError(
                    f"{origin}: {uid} is a study and '{task_type.value}' tasks work on a series - give its series "
                    f'(--where "study_uid={uid}") or series uids'
                )
            found.append((Target(study=uid), _study_ids(by_study[uid])))
        else:
            raise SelectionError(
                f"{origin}: {uid} is neither a study nor a series of the OsiriX database - see "
                "'osirix-tasks db studies' and 'osirix-tasks db series'"
            )
    return found


@dataclass
class SelectionRequest:
    """What the command line or the page asked to run on."""

    uids: list[str]
    uid_file: Path | None = None
    where: str | None = None
    browser_selection: bool = False
    #: ROI tasks: the names of the ROIs each series' run works on (its persisted ROIs; default: all of them).
    rois: list[str] = field(default_factory=list)
    #: A study uid stands for its series when the task works on series (the page's selected study rows).
    studies_as_series: bool = False

    def describe(self) -> str:
        """One line for the batch record."""
        parts = []
        if self.uids:
            parts.append(f"{len(self.uids)} uid(s)")
        if self.uid_file:
            parts.append(f"uids from {self.uid_file}")
        if self.where:
            parts.append(f"where {self.where}")
        if self.browser_selection:
            parts.append("the browser selection")
        if self.rois:
            parts.append("ROIs named " + ", ".join(repr(n) for n in self.rois))
        return "; ".join(parts)


def _gather(
    connection: Connection, request: SelectionRequest, task_type: TaskType
) -> list[tuple[Target, dict[str, Any]]]:
    """Every target the request names, in order (repeats kept)."""
    terms = parse_where(request.where) if request.where is not None else []
    rows = candidates(connection)
    origin = "the database window's selection" if request.studies_as_series else "argument"
    found = _targets_for_uids(request.uids, rows, task_type, origin, expand=request.studies_as_series)
    if request.uid_file:
        found += _targets_for_uids(read_uid_file(request.uid_file), rows, task_type, str(request.uid_file))
    if request.where is not None:
        found += [
            (Target(study=c.study_uid, series=c.series_uid), c.ids())
            for c in rows
            if all(term.test(c) for term in terms)
        ]
    if request.browser_selection:
        studies, series = _browser_selection(connection)
        found += _targets_for_uids([*studies, *series], rows, task_type, "the browser selection")
    return found


def select(
    connection: Connection, request: SelectionRequest, task_type: TaskType
) -> list[tuple[Target, dict[str, Any]]]:
    """The targets of a batch, each with its identifiers, in order and without repeats.

    SelectionError for a bad query, an unknown uid, a study given to a task that works on series,
    or an empty result (naming what was asked).
    """
    if not (request.uids or request.uid_file or request.where is not None or request.browser_selection):
        raise SelectionError("nothing selected - give study or series uids, --from FILE, --where QUERY or --selection")
    found = _gather(connection, request, task_type)
    if request.rois:
        if task_type != TaskType.ROI:
            raise SelectionError(
                f"--roi names the ROIs of an ROI task; this is a {task_type.value} task - leave it out"
            )
        found = [(dataclasses.replace(target, rois=tuple(request.rois)), ids) for target, ids in found]
    unique = list({target: (target, ids) for target, ids in found}.values())
    if not unique:
        raise SelectionError(
            f"the selection is empty ({request.describe()} matched nothing in the OsiriX database at "
            f"{connection.address}) - check it with --dry-run and 'osirix-tasks db series'"
        )
    return unique

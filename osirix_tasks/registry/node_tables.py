"""The DICOM node's tables of tasks.toml: ``[dicom]`` (with its ``[[dicom.node]]`` entries) and
``[[trigger]]``, validated like tasks, each problem with its line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..errors import describe_validation_error
from ..model import DicomSettings, TriggerSpec
from .problems import Problem
from .source import Source
from .spans import key_line, scan_tables

if TYPE_CHECKING:
    from .load import Registry

__all__ = ["NODE_TABLES", "load_dicom", "load_triggers"]

#: The top-level tables this module reads.
NODE_TABLES = ("dicom", "trigger")

_HINTS = {
    "ae_title": 'write 1-16 characters, e.g. ae_title = "OSIRIX_TASKS"',
    "port": "give a TCP port number (1-65535)",
    "address": 'give the address to listen on, e.g. address = "127.0.0.1"',
    "allowed_aets": 'give a list of AE titles, e.g. allowed_aets = ["CT_SCANNER"]',
    "allowed_addresses": 'give a list of addresses, e.g. allowed_addresses = ["192.168.1.20"]',
    "task": 'give the task\'s name, e.g. task = "Lung nodules"',
    "stable_seconds": "give a number of seconds greater than 0",
    "level": 'write "series" or "study"',
    "modality": 'give a modality or a list of them, e.g. modality = ["CT", "MR"]',
    "description": 'give a pattern, e.g. description = "*chest*"',
    "host": "give the node's host name or address",
    "name": "give the node a name of its own",
}


def _array_line(source: Source, name: str, index: int, key: str | None) -> int | None:
    """The line of entry ``index`` of the array of tables ``name`` (of its ``key`` when given)."""
    spans = [s for s in scan_tables(source.lines) if s.is_array and s.name == name]
    if index >= len(spans):
        return None
    return key_line(source.lines, spans[index], key) if key else spans[index].start


def load_dicom(source: Source, registry: Registry) -> None:
    """Read ``[dicom]`` into ``registry.dicom``; its problems into ``registry.problems``."""
    raw = source.data.get("dicom", {})
    if not isinstance(raw, dict):
        registry.problems.append(Problem(source.label, None, "dicom", None, "must be a table - write [dicom]"))
        return
    try:
        registry.dicom = DicomSettings.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            registry.problems.append(_dicom_problem(source, error))


def _dicom_problem(source: Source, error: Any) -> Problem:
    loc = list(error.get("loc") or ())
    if len(loc) >= 2 and loc[0] == "node" and isinstance(loc[1], int):
        field = str(loc[2]) if len(loc) > 2 else None
        entry = source.data["dicom"]["node"][loc[1]]
        subject = f"dicom node '{entry.get('name', '?') if isinstance(entry, dict) else '?'}'"
        line = _array_line(source, "dicom.node", loc[1], field)
        return Problem(source.label, line, subject, field, _describe(error, field))
    field = str(loc[0]) if loc else None
    return Problem(source.label, source.table_line("dicom", field), "dicom", field, _describe(error, field))


def _describe(error: Any, field: str | None) -> str:
    known = list(DicomSettings.model_fields) if field not in ("name", "host") else []
    return describe_validation_error({**error, "loc": (field,) if field else ()}, known=known, hints=_HINTS)


def load_triggers(source: Source, registry: Registry) -> None:
    """Read every ``[[trigger]]`` into ``registry.triggers``; the problems into ``registry.problems``."""
    entries = source.data.get("trigger", [])
    if not isinstance(entries, list):
        registry.problems.append(
            Problem(source.label, None, "trigger", None, "must be an array of tables - write [[trigger]]")
        )
        return
    for index, entry in enumerate(entries):
        subject = f"trigger '{entry.get('name') or entry.get('task', '?')}'" if isinstance(entry, dict) else "trigger"
        try:
            registry.triggers.append(TriggerSpec.model_validate(entry))
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error.get("loc") else None
                registry.problems.append(
                    Problem(
                        source.label,
                        _array_line(source, "trigger", index, field),
                        subject,
                        field,
                        describe_validation_error(error, known=list(TriggerSpec.model_fields), hints=_HINTS),
                    )
                )

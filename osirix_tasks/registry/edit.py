"""Edit ``tasks.toml`` as text: add and remove entries without touching anything else.

New entries are written as ``[[task]]`` tables after the last line; a removed entry's lines are
cut out. Comments, formatting and every other entry stay byte for byte. The result is parsed
again before it is written (atomically, previous file kept as ``.bak``, under the writer lock);
when the text cannot be edited safely the change is refused - the file is never rewritten whole.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from .._support.atomic import write_atomic, writer_lock
from ..model import MODULE_LOCATION, TaskSpec, TaskType, default_task_name
from .load import absolute_location
from .problems import Problem, RegistryError, problems_of
from .source import Source, read_source
from .spans import content_end, scan_tables

__all__ = ["add_tasks", "remove_task", "update_task", "set_disabled_packs", "render_task_table"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(value: Any) -> str:
    """One TOML value on one line (tables inline)."""
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def _inline(value: Any) -> str:
    """One TOML value on one line, arrays included (so a later edit can replace the line)."""
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return _value(value)


def render_task_table(table: dict[str, Any]) -> str:
    """A ``[[task]]`` table as TOML text, one key per line."""
    lines = ["[[task]]"] + [f"{_key(key)} = {_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def _stored_location(location: str, base: Path) -> str:
    """A script beside or below tasks.toml is stored relative to it, so the folder can move."""
    if MODULE_LOCATION.match(location) or not os.path.isabs(location):
        return location
    try:
        return Path(location).relative_to(base.resolve()).as_posix()
    except ValueError:
        try:
            return Path(location).relative_to(base).as_posix()
        except ValueError:
            return location


def _entry_key(entry: dict[str, Any], base: Path) -> tuple[str, TaskType] | None:
    """(name, type) of a raw entry, tolerant of entries that are otherwise invalid."""
    try:
        kind = TaskType.parse(entry.get("type"))
    except ValueError:
        return None
    name = entry.get("name")
    if not name:
        location = entry.get("location")
        if not isinstance(location, str) or not location:
            return None
        if not MODULE_LOCATION.match(location):
            location = absolute_location(location, str(base))
        name = default_task_name(location)
    return (str(name), kind)


def _unsafe(path: Path) -> RegistryError:
    return RegistryError(
        [
            Problem(
                path.name,
                None,
                "",
                None,
                "cannot be edited safely as text (its layout is unusual) - nothing was written; make the "
                "change by hand in the file",
            )
        ]
    )


def _check(path: Path, text: str, expected_tasks: list[Any]) -> None:
    """Refuse an edit whose text does not parse back to exactly the expected entries."""
    try:
        parsed = Source(path, text).data.get("task", [])
    except RegistryError:
        parsed = None
    if parsed != expected_tasks:
        raise _unsafe(path)


def add_tasks(path: str | os.PathLike[str], specs: list[TaskSpec]) -> None:
    """Append tasks to the registry, refusing any (name, type) it already has.

    Raises RegistryError naming each clash; nothing is written then.
    """
    path = Path(path)
    with writer_lock(path):
        source = read_source(path)
        base = path.parent
        existing = source.data.get("task", [])
        if not isinstance(existing, list):
            raise RegistryError(
                [Problem(source.label, None, "task", None, "must be an array of tables - write [[task]]")]
            )
        taken: dict[tuple[str, TaskType], int | None] = {}
        for index, entry in enumerate(existing):
            key = _entry_key(entry, base) if isinstance(entry, dict) else None
            if key is not None:
                taken[key] = source.task_line(index)
        problems = []
        for spec in specs:
            if spec.key in taken:
                line = taken[spec.key]
                problems.append(
                    Problem(
                        source.label,
                        line,
                        f"task '{spec.name}' ({spec.type.value})",
                        "name",
                        "a task with this name and type is already registered"
                        + (f" at line {line}" if line else "")
                        + " - remove it first or choose another --name",
                    )
                )
            taken[spec.key] = None
        if problems:
            raise RegistryError(problems)
        tables = []
        for spec in specs:
            table = spec.to_toml_table()
            table["location"] = _stored_location(table["location"], base)
            tables.append(table)
        text = source.text
        if text and not text.endswith("\n"):
            text += "\n"
        added = "\n".join(render_task_table(table) for table in tables)
        new_text = f"{text}\n{added}" if text.strip() else added
        _check(path, new_text, [*existing, *tables])
        write_atomic(path, new_text.encode("utf-8"))


def remove_task(path: str | os.PathLike[str], name: str, kind: TaskType | None = None) -> dict[str, Any]:
    """Remove the entry (name, kind) from the registry; kind may be omitted when unambiguous.

    Returns the removed entry. Raises RegistryError when there is no such entry, the name is
    ambiguous, or the file's text cannot be edited safely.
    """
    path = Path(path)
    with writer_lock(path):
        source = read_source(path)
        entries = source.data.get("task", [])
        index = _find_one(
            source,
            name,
            kind,
            absent="not in this registry - see 'osirix-tasks tasks list' "
            "(builtin and pack tasks cannot be removed, only disabled)",
        )
        removed: dict[str, Any] = entries[index]
        spans = source.task_spans
        if spans is None:  # the entries cannot be located in the text
            raise _unsafe(path)
        span = spans[index]
        lines = source.text.splitlines(keepends=True)
        end = content_end(source.lines, span)
        new_text = "".join(lines[: span.start - 1] + lines[end - 1 :])
        _check(path, new_text, entries[:index] + entries[index + 1 :])
        write_atomic(path, new_text.encode("utf-8"))
        return removed


def _find_one(source: Source, name: str, kind: TaskType | None, *, absent: str, ambiguous: str = "add --type") -> int:
    """The index of the entry (name, kind) in the source; RegistryError saying ``absent`` when there is
    none, or which types clash when the name is ambiguous."""
    entries = source.data.get("task", [])
    matches: list[tuple[int, TaskType]] = []
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        key = _entry_key(entry, source.path.parent) if isinstance(entry, dict) else None
        if key and key[0] == name and (kind is None or key[1] == kind):
            matches.append((index, key[1]))
    label = f"task '{name}'" + (f" ({kind.value})" if kind else "")
    if not matches:
        raise RegistryError([Problem(source.label, None, label, None, absent)])
    if len(matches) > 1:
        kinds = ", ".join(found.value for _, found in matches)
        raise RegistryError(
            [
                Problem(
                    source.label,
                    None,
                    label,
                    "type",
                    f"several tasks have this name ({kinds}) - {ambiguous}",
                )
            ]
        )
    return matches[0][0]


def _set_key_lines(lines: list[str], start: int, end: int, changes: dict[str, Any]) -> list[str]:
    """The lines of one table (header at ``start``, 1-based, up to ``end``) with ``changes`` applied:
    a key written on one line is replaced in place, a missing key is added after the header."""
    out = list(lines)
    added: list[str] = []
    for key, value in changes.items():
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        text = f"{_key(key)} = {_inline(value)}\n"
        for number in range(start + 1, end):
            if pattern.match(out[number - 1]):
                out[number - 1] = text
                break
        else:
            added.append(text)
    return out[:start] + added + out[start:]


def update_task(
    path: str | os.PathLike[str], name: str, kind: TaskType | None, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change fields of one registry entry in place (the other lines stay byte for byte).

    ``changes`` maps field names to their new values (``type``, ``blocking``, ``interpreter`` ...).
    The changed entry is validated as a whole first and may not take the (name, type) of another
    entry; RegistryError names each problem and its field, and nothing is written then. Returns
    the entry as written.
    """
    path = Path(path).absolute()
    with writer_lock(path):
        source = read_source(path)
        index = _find_one(
            source,
            name,
            kind,
            absent="not in this registry - builtin and pack tasks cannot be changed here, only disabled",
            ambiguous="give its type",
        )
        entries: list[Any] = source.data["task"]
        entry: dict[str, Any] = entries[index]
        updated = {**entry, **changes}
        subject = f"task '{name}' ({entry.get('type')})"
        location = updated.get("location")
        check = dict(updated)
        if isinstance(location, str) and location and not MODULE_LOCATION.match(location):
            check["location"] = absolute_location(location, str(path.parent))
        try:
            spec = TaskSpec.model_validate(check)
        except ValidationError as exc:
            raise RegistryError(
                problems_of(
                    exc.errors(),
                    file=source.label,
                    subject=subject,
                    known=TaskSpec.model_fields,
                    line=source.task_line(index),
                )
            ) from None
        for other_index, other in enumerate(entries):
            if other_index != index and isinstance(other, dict) and _entry_key(other, path.parent) == spec.key:
                raise RegistryError(
                    [
                        Problem(
                            source.label,
                            source.task_line(other_index),
                            subject,
                            "type" if "type" in changes else "name",
                            f"task '{spec.name}' ({spec.type.value}) is already registered - remove it first or "
                            "choose another name",
                        )
                    ]
                )
        spans = source.task_spans
        if spans is None:
            raise _unsafe(path)
        span = spans[index]
        lines = source.text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        end = content_end(source.lines, span)
        new_text = "".join(_set_key_lines(lines, span.start, end, changes))
        _check(path, new_text, entries[:index] + [updated] + entries[index + 1 :])
        write_atomic(path, new_text.encode("utf-8"))
        return updated


def set_disabled_packs(path: str | os.PathLike[str], names: list[str]) -> None:
    """Write ``[settings] disabled_packs`` (the rest of the file stays byte for byte); the table is
    added at the end when the file has none."""
    path = Path(path)
    with writer_lock(path):
        source = read_source(path)
        settings = source.data.get("settings", {})
        if not isinstance(settings, dict):
            raise _unsafe(path)
        lines = source.text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        start = source.table_line("settings")
        if start is None:
            if "settings" in source.data:  # written in a form the scanner does not see (dotted keys)
                raise _unsafe(path)
            block = ["\n" if lines else "", "[settings]\n", f"disabled_packs = {_inline(list(names))}\n"]
            new_lines = lines + [b for b in block if b]
        else:
            end = next(
                (s.end for s in scan_tables(source.lines) if s.name == "settings" and not s.is_array), len(lines) + 1
            )
            new_lines = _set_key_lines(lines, start, end, {"disabled_packs": list(names)})
        new_text = "".join(new_lines)
        try:
            parsed = Source(path, new_text).data
        except RegistryError:
            raise _unsafe(path) from None
        expected = {**source.data, "settings": {**settings, "disabled_packs": list(names)}}
        if parsed != expected:
            raise _unsafe(path)
        write_atomic(path, new_text.encode("utf-8"))

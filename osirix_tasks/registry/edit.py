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

from .._atomic import write_atomic, writer_lock
from ..model import MODULE_LOCATION, TaskSpec, TaskType
from .load import absolute_location
from .problems import Problem, RegistryError
from .source import Source, read_source
from .spans import content_end

__all__ = ["add_tasks", "remove_task", "render_task_table"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(value: Any) -> str:
    """One TOML value on one line (tables inline)."""
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


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
        name = location.rsplit(":", 1)[1] if MODULE_LOCATION.match(location) else Path(location).stem
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
        base = path.parent
        entries = source.data.get("task", [])
        matches = []
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            key = _entry_key(entry, base) if isinstance(entry, dict) else None
            if key and key[0] == name and (kind is None or key[1] == kind):
                matches.append((index, key))
        label = f"task '{name}'" + (f" ({kind.value})" if kind else "")
        if not matches:
            raise RegistryError(
                [
                    Problem(
                        source.label,
                        None,
                        label,
                        None,
                        "not in this registry - see 'osirix-tasks tasks list' "
                        "(builtin and pack tasks cannot be removed, only disabled)",
                    )
                ]
            )
        if len(matches) > 1:
            kinds = ", ".join(k[1].value for _, k in matches)
            raise RegistryError(
                [Problem(source.label, None, label, "type", f"several tasks have this name ({kinds}) - add --type")]
            )
        index, _ = matches[0]
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

"""Read, validate and edit ``tasks.toml``.

Loading reports every problem of the file at once, each as
``tasks.toml:LINE: task 'NAME' (TYPE): field 'X': what is wrong - what to do``. Edits are made on
the TOML text (so comments and untouched entries stay exactly as written), checked by parsing
the result, and written atomically under a writer lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli
import tomli_w
from pydantic import TypeAdapter, ValidationError

from ._atomic import write_atomic, writer_lock
from ._tomlspans import TableSpan, content_end, key_line, scan_tables
from .model import MODULE_LOCATION, RegistrySettings, TaskSpec, TaskType, batch_validation

__all__ = [
    "Problem",
    "RegistryError",
    "Registry",
    "ModuleSource",
    "load_registry",
    "load_settings",
    "add_tasks",
    "remove_task",
]

_FIELD_HINTS = {
    "name": "write the task's name as a string, e.g. name = \"Smooth\"",
    "type": "use one of Database, Image, VRController, ROI",
    "location": "give the script's path as a string, or module:function for a decorated task",
    "blocking": "write true or false",
    "language": "leave it out: it is detected from the file",
    "interpreter": "give the absolute path of a Python executable as a string",
    "description": "write a string",
    "timeout": "give a number of seconds greater than 0, or leave it out",
    "args": "give a list of strings, e.g. args = [\"--fast\"]",
    "module": "give a Python module name, e.g. module = \"mypack.tasks\"",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a registry file, located by line, task and field."""

    file: str
    line: int | None
    subject: str
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        parts = [where]
        if self.subject:
            parts.append(self.subject)
        if self.field:
            parts.append(f"field '{self.field}'")
        parts.append(self.message)
        return ": ".join(parts)


class RegistryError(Exception):
    """The registry cannot be used as it is; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class ModuleSource:
    """A ``[[task]] module = "pkg.mod"`` entry or a ``[settings] modules`` item."""

    module: str
    line: int | None


@dataclass
class Registry:
    """A loaded tasks.toml: its valid tasks, module sources, settings and problems."""

    path: Path
    tasks: list[TaskSpec] = field(default_factory=list)
    task_index: dict[tuple[str, TaskType], int] = field(default_factory=dict)
    modules: list[ModuleSource] = field(default_factory=list)
    settings: RegistrySettings = field(default_factory=RegistrySettings)
    problems: list[Problem] = field(default_factory=list)

    _source: _Source | None = field(default=None, repr=False)

    def line_of(self, key: tuple[str, TaskType]) -> int | None:
        """The line of the ``[[task]]`` header of a registry task (None if not found)."""
        index = self.task_index.get(key)
        if index is None or self._source is None:
            return None
        return self._source.task_line(index)

    @property
    def exists(self) -> bool:
        """Whether the file is on disk (a missing registry is an empty one)."""
        return self.path.exists()

    @property
    def plugins_dir(self) -> Path:
        """The local plugins folder: ``[settings] plugins_dir``, else ``plugins/`` beside it."""
        configured = self.settings.plugins_dir
        if configured:
            return (self.path.parent / configured).resolve()
        return self.path.parent / "plugins"


class _Source:
    """The text of a TOML file with its parsed data and table positions."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.label = path.name
        self.text = text
        self.lines = text.splitlines()
        try:
            self.data: dict[str, Any] = tomli.loads(text)
        except tomli.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", None)
            col = getattr(exc, "colno", None)
            where = f"{line}:{col}" if line and col else None
            message = getattr(exc, "msg", str(exc))
            raise RegistryError(
                [
                    Problem(
                        f"{self.label}:{where}" if where else self.label,
                        None,
                        "",
                        None,
                        f"TOML syntax error: {message} - fix the syntax there, or put the previous version "
                        "back with 'osirix-tasks tasks restore'",
                    )
                ]
            ) from None
        self._spans: list[TableSpan] | None = None

    @property
    def task_spans(self) -> list[TableSpan] | None:
        """The span of each ``[[task]]`` entry, or None when the text cannot be trusted for it."""
        if self._spans is None:
            self._spans = [s for s in scan_tables(self.lines) if s.is_array and s.name == "task"]
        entries = self.data.get("task", [])
        if not isinstance(entries, list) or len(self._spans) != len(entries):
            return None
        return self._spans

    def task_line(self, index: int, key: str | None = None) -> int | None:
        spans = self.task_spans
        if spans is None:
            return None
        return key_line(self.lines, spans[index], key) if key else spans[index].start

    def table_line(self, name: str, key: str | None = None) -> int | None:
        for span in scan_tables(self.lines):
            if span.name == name and not span.is_array:
                return key_line(self.lines, span, key) if key else span.start
        return None


def _read_source(path: Path) -> _Source:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except UnicodeDecodeError as exc:
        raise RegistryError(
            [Problem(path.name, None, "", None, f"not UTF-8 text ({exc.reason}) - save it as UTF-8")]
        ) from None
    return _Source(path, text)


def load_registry(path: str | os.PathLike[str], *, strict: bool = False) -> Registry:
    """Load and validate a tasks.toml.

    Every entry is checked; problems are collected in ``Registry.problems`` (raised together as
    a RegistryError when ``strict``). A TOML syntax error always raises. A missing file is an
    empty registry.
    """
    source = _read_source(Path(path))
    registry = Registry(path=Path(path), _source=source)
    _load_settings(source, registry)
    _load_tasks(source, registry)
    for key in source.data:
        if key not in ("task", "settings"):
            registry.problems.append(
                Problem(
                    source.label,
                    source.table_line(key),
                    f"table '{key}'",
                    None,
                    "unknown table - only [[task]] and [settings] are read; remove or rename it",
                )
            )
    if strict and registry.problems:
        raise RegistryError(registry.problems)
    return registry


def load_settings(path: str | os.PathLike[str]) -> Registry:
    """Only the ``[settings]`` of a registry (its tasks are not read or validated): what a running
    task's process needs to load the same plugins, without the cost of checking every task."""
    source = _read_source(Path(path))
    registry = Registry(path=Path(path), _source=source)
    _load_settings(source, registry)
    return registry


def _load_settings(source: _Source, registry: Registry) -> None:
    raw = source.data.get("settings", {})
    if not isinstance(raw, dict):
        registry.problems.append(
            Problem(source.label, None, "settings", None, "must be a table - write [settings]")
        )
        return
    try:
        registry.settings = RegistrySettings.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else None
            registry.problems.append(
                Problem(
                    source.label,
                    source.table_line("settings", name),
                    "settings",
                    name,
                    describe_error(error, known=RegistrySettings.model_fields),
                )
            )
    for module in registry.settings.modules:
        registry.modules.append(ModuleSource(module, source.table_line("settings", "modules")))


_TASK_LIST = TypeAdapter(list[TaskSpec])


def _load_tasks(source: _Source, registry: Registry) -> None:
    entries = source.data.get("task", [])
    if not isinstance(entries, list):
        registry.problems.append(
            Problem(source.label, None, "task", None, "must be an array of tables - write [[task]]")
        )
        return
    base = str(source.path.parent)
    indexes, prepared = [], []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        if "module" in entry:
            _load_module_entry(source, registry, index, entry)
            continue
        location = entry.get("location")
        if isinstance(location, str) and location and not MODULE_LOCATION.match(location):
            entry = {**entry, "location": _absolute(location, base)}
        indexes.append(index)
        prepared.append(entry)
    with batch_validation():
        try:  # one validator call for the whole file: the common, all-valid case
            specs: list[TaskSpec | None] = list(_TASK_LIST.validate_python(prepared))
        except ValidationError:
            specs = [_validate_entry(source, registry, i, e) for i, e in zip(indexes, prepared, strict=True)]
    seen: dict[tuple[str, TaskType], int] = {}
    for index, spec in zip(indexes, specs, strict=True):
        if spec is None:
            continue
        key = (spec.name, spec.type)
        if key in seen:
            first = source.task_line(seen[key])
            registry.problems.append(
                Problem(
                    source.label,
                    source.task_line(index, "name"),
                    _subject(entries[index]),
                    "name",
                    f"duplicate: task '{spec.name}' ({spec.type.value}) is already defined"
                    + (f" at line {first}" if first else "")
                    + " - rename one of them or change its type",
                )
            )
            continue
        seen[key] = index
        registry.tasks.append(spec)
        registry.task_index[key] = index


def _absolute(location: str, base: str) -> str:
    if location.startswith("/") and "/." not in location and "//" not in location:
        return location
    return os.path.normpath(os.path.join(base, os.path.expanduser(location)))


def _validate_entry(
    source: _Source, registry: Registry, index: int, entry: dict[str, Any]
) -> TaskSpec | None:
    try:
        return TaskSpec.model_validate(entry)
    except ValidationError as exc:
        subject = _subject(entry)
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else None
            registry.problems.append(
                Problem(
                    source.label,
                    source.task_line(index, name),
                    subject,
                    name,
                    describe_error(error, known=TaskSpec.model_fields),
                )
            )
        return None


def _load_module_entry(
    source: _Source, registry: Registry, index: int, entry: dict[str, Any]
) -> None:
    module = entry["module"]
    extra = sorted(set(entry) - {"module"})
    subject = f"module entry '{module}'"
    if not isinstance(module, str) or not module.strip():
        registry.problems.append(
            Problem(source.label, source.task_line(index, "module"), subject, "module",
                    f"must be a module name - {_FIELD_HINTS['module']}")
        )
        return
    if extra:
        registry.problems.append(
            Problem(source.label, source.task_line(index, extra[0]), subject, extra[0],
                    "a module entry takes only 'module' (its tasks come from their decorators) - "
                    "remove the other keys or make a separate [[task]] entry")
        )
        return
    registry.modules.append(ModuleSource(module, source.task_line(index, "module")))


def _subject(entry: dict[str, Any]) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        location = entry.get("location")
        name = Path(location).stem if isinstance(location, str) and location else "?"
    kind = entry.get("type", "no type")
    return f"task '{name}' ({kind})"


def describe_error(error: Any, *, known: Iterable[str]) -> str:
    """Turn one pydantic error into 'what is wrong - what to do'."""
    kind = error["type"]
    name = str(error["loc"][0]) if error["loc"] else ""
    hint = _FIELD_HINTS.get(name, "fix the value")
    if kind == "missing":
        return f"missing - add it: {hint}"
    if kind == "extra_forbidden":
        return f"unknown field - remove it or fix its spelling (known fields: {', '.join(known)})"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    got = error.get("input")
    return f"{error['msg'].lower()} (got {got!r}) - {hint}"


def _render(tables: Iterable[dict[str, Any]]) -> str:
    return "".join("\n" + tomli_w.dumps({"task": [table]}) for table in tables)


def _resolved(value: object, base: Path) -> object:
    if isinstance(value, str) and value and not MODULE_LOCATION.match(value):
        return _absolute(value, str(base))
    return value


def _entry_key(entry: dict[str, Any], base: Path) -> tuple[str, TaskType] | None:
    """(name, type) of a raw entry, tolerant of entries that are otherwise invalid."""
    try:
        kind = TaskType.parse(entry.get("type"))
    except ValueError:
        return None
    name = entry.get("name")
    if not name:
        location = _resolved(entry.get("location"), base)
        if not isinstance(location, str):
            return None
        name = location.rsplit(":", 1)[1] if MODULE_LOCATION.match(location) else Path(location).stem
    return (str(name), kind)


def add_tasks(path: str | os.PathLike[str], specs: list[TaskSpec]) -> None:
    """Append tasks to the registry, refusing any (name, type) it already has.

    Raises RegistryError naming each clash; nothing is written then.
    """
    path = Path(path)
    with writer_lock(path):
        source = _read_source(path)
        base = path.parent
        existing = source.data.get("task", [])
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
                    Problem(source.label, line, f"task '{spec.name}' ({spec.type.value})", "name",
                            "a task with this name and type is already registered"
                            + (f" at line {line}" if line else "")
                            + " - remove it first or choose another --name")
                )
            taken[spec.key] = None
        if problems:
            raise RegistryError(problems)
        tables = [spec.to_toml_table() for spec in specs]
        text = source.text
        if text and not text.endswith("\n"):
            text += "\n"
        new_text = text + _render(tables)
        if not source.text:
            new_text = new_text.lstrip("\n")
        count = len(existing) + len(specs)
        try:
            check = _Source(path, new_text)
            assert len(check.data.get("task", [])) == count
        except (RegistryError, AssertionError):
            data = dict(source.data)
            data["task"] = [*existing, *tables]
            new_text = tomli_w.dumps(data)
        write_atomic(path, new_text.encode("utf-8"))


def remove_task(
    path: str | os.PathLike[str], name: str, kind: TaskType | None = None
) -> dict[str, Any]:
    """Remove the entry (name, kind) from the registry; kind may be omitted when unambiguous.

    Returns the removed entry. Raises RegistryError when there is no such entry or the name is
    ambiguous.
    """
    path = Path(path)
    with writer_lock(path):
        source = _read_source(path)
        base = path.parent
        entries = source.data.get("task", [])
        matches = []
        for index, entry in enumerate(entries):
            key = _entry_key(entry, base) if isinstance(entry, dict) else None
            if key and key[0] == name and (kind is None or key[1] == kind):
                matches.append((index, key))
        label = f"task '{name}'" + (f" ({kind.value})" if kind else "")
        if not matches:
            raise RegistryError([Problem(source.label, None, label, None,
                                         "not in this registry - see 'osirix-tasks tasks list' "
                                         "(builtin and pack tasks cannot be removed, only disabled)")])
        if len(matches) > 1:
            kinds = ", ".join(k[1].value for _, k in matches)
            raise RegistryError([Problem(source.label, None, label, "type",
                                         f"several tasks have this name ({kinds}) - add --type")])
        index, _ = matches[0]
        removed = entries[index]
        spans = source.task_spans
        new_text = None
        if spans is not None:
            span = spans[index]
            lines = source.text.splitlines(keepends=True)
            end = content_end(source.lines, span)
            new_text = "".join(lines[: span.start - 1] + lines[end - 1 :])
            try:
                check = _Source(path, new_text)
                if check.data.get("task", []) != entries[:index] + entries[index + 1 :]:
                    new_text = None
            except RegistryError:
                new_text = None
        if new_text is None:
            data = dict(source.data)
            data["task"] = entries[:index] + entries[index + 1 :]
            new_text = tomli_w.dumps(data)
        write_atomic(path, new_text.encode("utf-8"))
        return removed

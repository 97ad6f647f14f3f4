"""Load and validate ``tasks.toml``, reporting every problem at once with its line.

Each problem reads ``tasks.toml:LINE: task 'NAME' (TYPE): field 'X': what is wrong - what to do``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..model import MODULE_LOCATION, DicomSettings, RegistrySettings, TaskSpec, TaskType, TriggerSpec, batch_validation
from .node_tables import NODE_TABLES, load_dicom, load_triggers
from .problems import FIELD_HINTS, Problem, RegistryError, describe_error
from .source import Source, read_source

__all__ = ["Registry", "ModuleSource", "load_registry", "load_settings", "absolute_location", "entry_subject"]


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
    #: The DICOM node's ``[dicom]`` table and the ``[[trigger]]`` entries.
    dicom: DicomSettings = field(default_factory=DicomSettings)
    triggers: list[TriggerSpec] = field(default_factory=list)

    _source: Source | None = field(default=None, repr=False)

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


def load_registry(path: str | os.PathLike[str], *, strict: bool = False) -> Registry:
    """Load and validate a tasks.toml.

    Every entry is checked; problems are collected in ``Registry.problems`` (raised together as
    a RegistryError when ``strict``). A file that cannot be read or parsed at all (a TOML syntax
    error) is an empty registry with that one problem, so builtin and pack tasks still list and
    run; with ``strict`` it raises. A missing file is an empty registry.
    """
    try:
        source = read_source(Path(path))
    except RegistryError as exc:
        if strict:
            raise
        return Registry(path=Path(path), problems=list(exc.problems))
    registry = Registry(path=Path(path), _source=source)
    _load_settings(source, registry)
    _load_tasks(source, registry)
    load_dicom(source, registry)
    load_triggers(source, registry)
    for key in source.data:
        if key not in ("task", "settings", *NODE_TABLES):
            registry.problems.append(
                Problem(
                    source.label,
                    source.table_line(key),
                    f"table '{key}'",
                    None,
                    "unknown table - only [[task]], [settings], [dicom] and [[trigger]] are read; remove or rename it",
                )
            )
    if strict and registry.problems:
        raise RegistryError(registry.problems)
    return registry


def load_settings(path: str | os.PathLike[str]) -> Registry:
    """Only the ``[settings]`` of a registry (its tasks are not read or validated): what a running
    task's process needs to load the same plugins, without the cost of checking every task."""
    try:
        source = read_source(Path(path))
    except RegistryError as exc:  # a broken file: no settings (builtins and packs still run)
        return Registry(path=Path(path), problems=list(exc.problems))
    registry = Registry(path=Path(path), _source=source)
    _load_settings(source, registry)
    return registry


def _load_settings(source: Source, registry: Registry) -> None:
    raw = source.data.get("settings", {})
    if not isinstance(raw, dict):
        registry.problems.append(Problem(source.label, None, "settings", None, "must be a table - write [settings]"))
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


def _load_tasks(source: Source, registry: Registry) -> None:
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
            entry = {**entry, "location": absolute_location(location, base)}
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
                    entry_subject(entries[index]),
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


def absolute_location(location: str, base: str) -> str:
    """A script path of tasks.toml made absolute: relative paths are read from the file's folder."""
    if location.startswith("/") and "/." not in location and "//" not in location:
        return location
    return os.path.normpath(os.path.join(base, os.path.expanduser(location)))


def _validate_entry(source: Source, registry: Registry, index: int, entry: dict[str, Any]) -> TaskSpec | None:
    try:
        return TaskSpec.model_validate(entry)
    except ValidationError as exc:
        subject = entry_subject(entry)
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


def _load_module_entry(source: Source, registry: Registry, index: int, entry: dict[str, Any]) -> None:
    module = entry["module"]
    extra = sorted(set(entry) - {"module"})
    subject = f"module entry '{module}'"
    if not isinstance(module, str) or not module.strip():
        registry.problems.append(
            Problem(
                source.label,
                source.task_line(index, "module"),
                subject,
                "module",
                f"must be a module name - {FIELD_HINTS['module']}",
            )
        )
        return
    if extra:
        registry.problems.append(
            Problem(
                source.label,
                source.task_line(index, extra[0]),
                subject,
                extra[0],
                "a module entry takes only 'module' (its tasks come from their decorators) - "
                "remove the other keys or make a separate [[task]] entry",
            )
        )
        return
    registry.modules.append(ModuleSource(module, source.task_line(index, "module")))


def entry_subject(entry: dict[str, Any]) -> str:
    """``task 'NAME' (TYPE)`` for a raw entry, however broken."""
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        location = entry.get("location")
        name = Path(location).stem if isinstance(location, str) and location else "?"
    kind = entry.get("type", "no type")
    return f"task '{name}' ({kind})"

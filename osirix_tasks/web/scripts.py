"""The Script Management window's work: the plugin's table over every task, and its edits.

Each change goes through the registry's validated, atomic textual edits (the code behind
``osirix-tasks tasks add/remove``); a problem comes back with the field it concerns so the page can
show it next to that field, and nothing is written then.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..catalog import Catalog
from ..errors import FieldError
from ..model import TaskSpec, TaskType, default_interpreter
from ..plugins import BUILTIN, ENTRY_POINT_GROUP
from ..registry import RegistryError, add_tasks, problems_of, remove_task
from ..registry.edit import set_disabled_packs, update_task

__all__ = ["FieldError", "task_rows", "add_script", "change_script", "remove_script", "packs", "set_pack_enabled"]


#: Registry field -> the form field that sets it.
_FORM_FIELDS = {"location": "path"}


def _fields_of(exc: RegistryError) -> FieldError:
    fields: dict[str, str] = {}
    for problem in exc.problems:
        key = _FORM_FIELDS.get(problem.field or "", problem.field or "")
        fields[key] = f"{fields[key]}; {problem.message}" if key in fields else problem.message
    return FieldError(fields)


def task_rows(catalog: Catalog) -> list[dict[str, Any]]:
    """One row per task: the plugin's columns plus where it comes from and whether it can be edited."""
    own = catalog.registry.path.name
    return [
        {
            "name": e.spec.name,
            "type": e.spec.type.value,
            "blocking": e.spec.blocking,
            "language": e.spec.language.capitalize(),
            "location": e.spec.location,
            "interpreter": e.spec.interpreter,
            "description": e.spec.description,
            "origin": e.origin,
            "editable": e.origin == own or e.origin.startswith(own + ":"),
        }
        for e in catalog.entries
    ]


def add_script(catalog: Catalog, form: dict[str, Any]) -> TaskSpec:
    """Register a script file (path, type, optional name, interpreter, blocking)."""
    path = str(form.get("path") or "").strip()
    if not path:
        raise FieldError({"path": "give the script's path"})
    fields: dict[str, Any] = {
        "location": os.path.abspath(os.path.expanduser(path)),
        "type": form.get("type") or "Image",  # the plugin registers new scripts as Image tools
        "blocking": bool(form.get("blocking")),
        "interpreter": str(form.get("interpreter") or "").strip() or default_interpreter(),
    }
    if str(form.get("name") or "").strip():
        fields["name"] = str(form["name"]).strip()
    try:
        spec = TaskSpec.model_validate(fields)
    except ValidationError as exc:
        problems = problems_of(exc.errors(), file=path, known=TaskSpec.model_fields)
        raise _fields_of(RegistryError(problems)) from None
    clash = [e for e in catalog.find(spec.name, spec.type) if not e.origin.startswith(catalog.registry.path.name)]
    if clash:
        raise FieldError({"name": f"task '{spec.name}' ({spec.type.value}) is already provided by {clash[0].origin}"})
    try:
        add_tasks(catalog.registry.path, [spec])
    except RegistryError as exc:
        raise _fields_of(exc) from None
    return spec


def change_script(catalog: Catalog, name: str, kind: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change type, blocking or interpreter of a registry task in place."""
    allowed = {"type", "blocking", "interpreter"}
    unknown = set(changes) - allowed
    if unknown:
        raise FieldError(
            {"": f"only {', '.join(sorted(allowed))} can be changed here, not {', '.join(sorted(unknown))}"}
        )
    if "type" in changes:
        try:
            changes = {**changes, "type": TaskType.parse(changes["type"]).value}
        except ValueError as exc:
            raise FieldError({"type": str(exc)}) from None
    if "blocking" in changes:
        changes = {**changes, "blocking": bool(changes["blocking"])}
    try:
        return update_task(catalog.registry.path, name, TaskType.parse(kind), changes)
    except RegistryError as exc:
        raise _fields_of(exc) from None


def remove_script(catalog: Catalog, name: str, kind: str) -> None:
    """Remove a registry task."""
    try:
        remove_task(catalog.registry.path, name, TaskType.parse(kind))
    except RegistryError as exc:
        raise _fields_of(exc) from None


def packs(catalog: Catalog) -> list[dict[str, Any]]:
    """Every source of tasks that can be disabled: the builtin plugin, local plugins, installed packs."""
    disabled = set(catalog.registry.settings.disabled_packs)
    found = [{"name": BUILTIN, "origin": "builtin", "enabled": BUILTIN not in disabled}]
    folder: Path = catalog.registry.plugins_dir
    for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        name = f"plugins/{path.name}"
        found.append({"name": name, "origin": "local plugin", "enabled": not ({name, path.stem} & disabled)})
    seen = set()
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        dist = entry.dist.name if entry.dist is not None else entry.name
        if dist in seen:
            continue
        seen.add(dist)
        found.append(
            {"name": dist, "origin": f"pack (entry point {entry.name})", "enabled": not ({dist, entry.name} & disabled)}
        )
    return found


def set_pack_enabled(catalog: Catalog, name: str, enabled: bool) -> list[str]:
    """Enable or disable a pack by name in ``[settings] disabled_packs``; returns the new list."""
    known = {p["name"] for p in packs(catalog)}
    if name not in known:
        raise FieldError({"": f"no pack or plugin named {name!r} - known: {', '.join(sorted(known))}"})
    current = [n for n in catalog.registry.settings.disabled_packs if n != name]
    names = current if enabled else [*current, name]
    try:
        set_disabled_packs(catalog.registry.path, names)
    except RegistryError as exc:
        raise _fields_of(exc) from None
    return names

"""The OsiriXgrpc plugin's ``script_configs.json``: import into tasks.toml, export from it.

The plugin writes a JSON array of ``{"name", "path", "interpreterPath", "type", "blocking"}``
with type Image / ROI / VR / Database and blocking "YES"/"NO". Export writes exactly that, so
a file the plugin wrote comes back equal after an import and an export.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .._support.atomic import write_atomic
from ..model import TaskSpec
from .load import Registry
from .problems import Problem, RegistryError, describe_error

__all__ = ["read_script_configs", "script_configs_json", "export_script_configs"]

#: plugin key -> TaskSpec field
_FIELDS = {"name": "name", "path": "location", "interpreterPath": "interpreter", "type": "type", "blocking": "blocking"}
_PLUGIN_KEYS = {v: k for k, v in _FIELDS.items()}


def _blocking(value: object) -> object:
    if isinstance(value, str) and value.upper() in ("YES", "NO"):
        return value.upper() == "YES"
    return value


def _read_entries(path: Path) -> list[Any]:
    """The file's JSON array; RegistryError naming the file (and line) when it is not one."""
    label = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(
            [Problem(str(path), None, "", None, "no such file - give the path of the plugin's script_configs.json")]
        ) from None
    except json.JSONDecodeError as exc:
        raise RegistryError(
            [
                Problem(
                    f"{label}:{exc.lineno}:{exc.colno}", None, "", None, f"JSON syntax error: {exc.msg} - fix the file"
                )
            ]
        ) from None
    if not isinstance(data, list):
        raise RegistryError(
            [Problem(label, None, "", None, "must be a JSON array of script entries, as the plugin writes it")]
        )
    return data


def _entry_spec(label: str, number: int, entry: Any, problems: list[Problem]) -> TaskSpec | None:
    """One entry as a TaskSpec, or None with its problems added to ``problems``."""
    subject = f"entry {number} ('{entry.get('name', '?')}')" if isinstance(entry, dict) else f"entry {number}"
    if not isinstance(entry, dict):
        problems.append(Problem(label, None, subject, None, "must be a JSON object"))
        return None
    for key in sorted(set(entry) - set(_FIELDS)):
        problems.append(
            Problem(
                label,
                None,
                subject,
                key,
                f"not a field of the plugin's format (known: {', '.join(_FIELDS)}) - remove it",
            )
        )
    fields: dict[str, Any] = {_FIELDS[k]: v for k, v in entry.items() if k in _FIELDS}
    if "blocking" in fields:
        fields["blocking"] = _blocking(fields["blocking"])
    if not fields.get("interpreter"):
        fields.pop("interpreter", None)
    try:
        return TaskSpec.model_validate(fields)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else None
            field = _PLUGIN_KEYS.get(name or "", name)
            problems.append(Problem(label, None, subject, field, describe_error(error, known=_FIELDS)))
        return None


def read_script_configs(path: str | os.PathLike[str]) -> list[TaskSpec]:
    """Every entry of a script_configs.json as a TaskSpec; all problems raised together."""
    path = Path(path)
    problems: list[Problem] = []
    specs = [_entry_spec(path.name, n, entry, problems) for n, entry in enumerate(_read_entries(path), start=1)]
    if problems:
        raise RegistryError(problems)
    return [spec for spec in specs if spec is not None]


def script_configs_json(specs: list[TaskSpec]) -> list[dict[str, str]]:
    """Script tasks in the plugin's JSON form (decorated tasks have no file and are left out)."""
    return [
        {
            "name": spec.name,
            "path": spec.location,
            "interpreterPath": spec.interpreter,
            "type": spec.type.plugin_name,
            "blocking": "YES" if spec.blocking else "NO",
        }
        for spec in specs
        if spec.is_script
    ]


def export_script_configs(registry: Registry, path: str | os.PathLike[str]) -> int:
    """Write the registry's script tasks to ``path`` in the plugin's format; returns the count."""
    entries = script_configs_json(registry.tasks)
    write_atomic(Path(path), (json.dumps(entries, indent=4) + "\n").encode("utf-8"))
    return len(entries)

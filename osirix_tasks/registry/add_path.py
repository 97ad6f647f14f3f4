"""What ``tasks add PATH[:FUNCTION]`` registers: a script, or the ``@osirix_task`` functions of a file.

A file whose top-level functions are decorated with ``@osirix_task`` is not a script (run as a
whole it would define them and exit 0): each of its decorated functions becomes a task,
``PATH.py:FUNCTION``, with the name, type and options its decorator gives (read from the source,
without running it). ``PATH.py:FUNCTION`` registers that function only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..model import FILE_FUNCTION_LOCATION, TaskSpec, TaskType, default_interpreter
from .decorated import DecoratedFunction, decorated_functions
from .problems import Problem, RegistryError, problems_of

__all__ = ["specs_to_add"]


def _spec(fields: dict[str, Any], label: str) -> TaskSpec:
    try:
        return TaskSpec.model_validate(fields)
    except ValidationError as exc:
        raise RegistryError(problems_of(exc.errors(), file=label, known=TaskSpec.model_fields)) from None


def _refuse(label: str, field: str | None, message: str) -> RegistryError:
    return RegistryError([Problem(label, None, "", field, message)])


def _functions_of(path: Path, label: str, function: str | None) -> list[DecoratedFunction]:
    """The decorated functions to register (none: the file is a script)."""
    try:
        found = decorated_functions(path) if path.suffix == ".py" and path.is_file() else []
    except SyntaxError as exc:
        if function is None:
            return []  # a script being written: registered as one, its run will say what is wrong
        raise _refuse(f"{label}:{exc.lineno}", None, f"Python syntax error: {exc.msg} - fix it first") from None
    if function is None:
        return found
    chosen = [item for item in found if item.function == function]
    if not chosen:
        known = ", ".join(item.function for item in found) or "none"
        raise _refuse(
            label, None, f"no @osirix_task function {function!r} in this file (its decorated functions: {known})"
        )
    return chosen


def specs_to_add(
    target: str,
    *,
    kind: TaskType | None,
    name: str | None,
    interpreter: str | None,
    blocking: bool | None,
    description: str | None,
    timeout: float | None,
) -> list[TaskSpec]:
    """The tasks ``tasks add TARGET`` registers, validated; RegistryError saying what to do otherwise."""
    in_file = FILE_FUNCTION_LOCATION.match(target)
    path_text, function = (in_file["path"], in_file["function"]) if in_file else (target, None)
    location = os.path.abspath(os.path.expanduser(path_text))
    given = _Given(kind, name, interpreter or default_interpreter(), blocking, description, timeout)
    functions = _functions_of(Path(location), path_text, function)
    if not functions:
        return [_script_spec(location, path_text, given)]
    if name and len(functions) > 1:
        raise _refuse(path_text, "name", f"--name names one task, and this file has {len(functions)} - add :FUNCTION")
    return [_function_spec(location, path_text, item, given) for item in functions]


@dataclass(frozen=True)
class _Given:
    """What the command line gave (None: not given)."""

    kind: TaskType | None
    name: str | None
    interpreter: str
    blocking: bool | None
    description: str | None
    timeout: float | None


def _script_spec(location: str, label: str, given: _Given) -> TaskSpec:
    if given.kind is None:
        raise _refuse(label, "type", "a script needs its type - add --type (Database, Image, VRController, ROI)")
    fields: dict[str, Any] = {
        "location": location,
        "type": given.kind,
        "interpreter": given.interpreter,
        "blocking": bool(given.blocking),
        "description": given.description or "",
        "timeout": given.timeout,
    }
    if given.name:
        fields["name"] = given.name
    return _spec(fields, label)


def _declared_type(label: str, item: DecoratedFunction, given: TaskType | None) -> TaskType:
    """The function's type as its decorator declares it; --type may only repeat it."""
    declared = item.options.get("type")
    try:
        own = TaskType.parse(declared) if declared is not None else given
    except ValueError as exc:
        raise _refuse(f"{label}:{item.line}", "type", str(exc)) from None
    if own is None or (given is not None and given != own):
        why = f"is declared {own.value} by its decorator" if own else "has no type"
        raise _refuse(f"{label}:{item.line}", "type", f"function '{item.function}' {why} - drop or fix --type")
    return own


def _function_spec(location: str, label: str, item: DecoratedFunction, given: _Given) -> TaskSpec:
    options = item.options
    fields = {
        "location": f"{location}:{item.function}",
        "type": _declared_type(label, item, given.kind),
        "name": given.name or item.name,
        "interpreter": given.interpreter,
        "blocking": options.get("blocking", False) if given.blocking is None else given.blocking,
        "description": options.get("description", "") if given.description is None else given.description,
        "timeout": options.get("timeout") if given.timeout is None else given.timeout,
        "pixels": options.get("pixels", False),
    }
    return _spec(fields, label)

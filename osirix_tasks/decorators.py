"""``@osirix_task``: declare a Python function as an OsiriX task."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from .model import FILE_FUNCTION_LOCATION, MODULE_LOCATION, TaskSpec, TaskType

__all__ = ["osirix_task", "task_of", "tasks_in_module", "load_task_function"]

TASK_ATTRIBUTE = "__osirix_task__"
F = TypeVar("F", bound=Callable[..., Any])


def osirix_task(
    type: TaskType | str,
    *,
    name: str | None = None,
    blocking: bool = False,
    description: str | None = None,
    timeout: float | None = None,
    pixels: bool = False,
) -> Callable[[F], F]:
    """Declare ``func(context)`` as a task of ``type`` (Database, Image, VRController, ROI).

    The function must live at module level; it receives a :class:`osirix_tasks.TaskContext`.
    ``name`` defaults to the function's name, ``description`` to its docstring's first line.
    ``pixels=True`` says the task works on ``context.volume`` (its series' pixels) alone: every run
    gets it (read from OsiriX by the context hook), and a batch can run it on workers of other
    machines, which cannot reach OsiriX, the pixels shipped with each item.
    """
    kind = TaskType.parse(type)

    def decorate(func: F) -> F:
        location = f"{func.__module__}:{func.__qualname__}"
        if not MODULE_LOCATION.match(location):
            raise TypeError(
                f"@osirix_task on {func.__qualname__!r}: only module-level functions can be tasks "
                "- move it to the top level of its module"
            )
        doc = inspect.getdoc(func) or ""
        spec = TaskSpec(
            name=name or func.__name__,
            type=kind,
            location=location,
            blocking=blocking,
            description=description if description is not None else doc.split("\n", 1)[0],
            timeout=timeout,
            pixels=pixels,
        )
        setattr(func, TASK_ATTRIBUTE, spec)
        return func

    return decorate


def task_of(obj: object) -> TaskSpec | None:
    """The TaskSpec a decorated function carries, or None."""
    spec = getattr(obj, TASK_ATTRIBUTE, None)
    return spec if isinstance(spec, TaskSpec) else None


def tasks_in_module(module: ModuleType | str) -> list[TaskSpec]:
    """Every task decorated at the top level of ``module`` (imported when given by name)."""
    if isinstance(module, str):
        module = importlib.import_module(module)
    found = []
    for value in vars(module).values():
        spec = task_of(value)
        if spec is not None and spec.location.startswith(module.__name__ + ":"):
            found.append(spec)
    return found


def load_task_function(location: str) -> Callable[..., Any]:
    """Import the function behind ``module:function``, or ``PATH.py:function`` (from that file, with its
    folder first on ``sys.path``, as Python runs a script)."""
    in_file = FILE_FUNCTION_LOCATION.match(location)
    if in_file:
        module, attribute = _module_of_file(in_file["path"]), in_file["function"]
        where = f"file {in_file['path']!r}"
    else:
        module_name, _, attribute = location.partition(":")
        module = importlib.import_module(module_name)
        where = f"module {module_name!r}"
    func = getattr(module, attribute, None)
    if func is None or task_of(func) is None:
        raise LookupError(
            f"{location}: no @osirix_task function {attribute!r} in {where} - "
            "check the name, or reinstall the pack that provides it"
        )
    return func


def _module_of_file(path: str) -> ModuleType:
    """The module of a Python file, imported once per process under a name of its own."""
    name = "osirix_tasks_file_" + hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module

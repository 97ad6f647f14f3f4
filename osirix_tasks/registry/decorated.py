"""The ``@osirix_task`` functions of a Python file, found without importing it.

``tasks add file.py`` must know whether a file is a script (run as a whole) or a module of decorated
functions (each one a task), and it must not run the user's code to find out. The file is parsed
with :mod:`ast`: a top-level function whose decorator is a call of ``osirix_task`` (or
``something.osirix_task``) is a task, with the decorator's literal arguments and the docstring's
first line as its description. Such a task is registered as ``PATH.py:FUNCTION``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .problems import Problem, RegistryError

__all__ = ["DecoratedFunction", "decorated_functions", "DECORATOR"]

DECORATOR = "osirix_task"
_OPTIONS = ("type", "name", "blocking", "description", "timeout", "pixels")


@dataclass(frozen=True)
class DecoratedFunction:
    """One ``@osirix_task`` function of a file, as its source declares it."""

    function: str
    line: int
    options: dict[str, Any]

    @property
    def name(self) -> str:
        """The task's name: the decorator's ``name``, else the function's."""
        return str(self.options.get("name") or self.function)


def _decorator_call(node: ast.expr) -> ast.Call | None:
    if not isinstance(node, ast.Call):
        return None
    target = node.func
    named = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else None
    return node if named == DECORATOR else None


def _options(path: Path, function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> dict[str, Any]:
    given: list[tuple[str, ast.expr]] = [("type", call.args[0])] if call.args else []
    given += [(k.arg, k.value) for k in call.keywords if k.arg]
    options: dict[str, Any] = {}
    for key, value in given:
        if key not in _OPTIONS:
            continue
        try:
            options[key] = ast.literal_eval(value)
        except ValueError:
            raise RegistryError(
                [
                    Problem(
                        f"{path.name}:{value.lineno}",
                        None,
                        f"function '{function.name}'",
                        key,
                        f"@{DECORATOR}({key}=...) is not a plain value, so it cannot be read without running the file "
                        f'- write it as a literal (e.g. type="ROI"), or register the module: [[task]] module = ...',
                    )
                ]
            ) from None
    if "description" not in options:
        options["description"] = (ast.get_docstring(function) or "").split("\n", 1)[0]
    return options


def decorated_functions(path: Path) -> list[DecoratedFunction]:
    """The top-level ``@osirix_task`` functions of the Python file ``path`` (none: it is a script).

    SyntaxError when the file cannot be parsed; RegistryError when a decorator's arguments are not literals.
    """
    tree = ast.parse(path.read_bytes(), filename=str(path))
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            call = _decorator_call(decorator)
            if call is not None:
                found.append(DecoratedFunction(node.name, node.lineno, _options(path, node, call)))
                break
    return found


def description_of(path: Path, function: str) -> str:
    """The first docstring line of ``function`` in the file (empty when unknown), read without importing."""
    try:
        for item in decorated_functions(path):
            if item.function == function:
                return str(item.options.get("description") or "")
    except (OSError, SyntaxError, ValueError, RegistryError):
        pass
    return ""

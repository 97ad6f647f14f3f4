"""What can be wrong in a registry file: :class:`Problem` (file, line, subject, field, message) and
:class:`RegistryError`, which carries every problem found at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import RegistryError, describe_validation_error

__all__ = ["Problem", "RegistryError", "FIELD_HINTS", "describe_error", "problems_of"]

#: What to write in each field of a task entry, for messages about it.
FIELD_HINTS = {
    "name": 'write the task\'s name as a string, e.g. name = "Smooth"',
    "type": "use one of Database, Image, VRController, ROI",
    "location": "give the script's path as a string, or module:function for a decorated task",
    "blocking": "write true or false",
    "language": "leave it out: it is detected from the file",
    "interpreter": "give the absolute path of a Python executable as a string",
    "description": "write a string",
    "timeout": "give a number of seconds greater than 0, or leave it out",
    "args": 'give a list of strings, e.g. args = ["--fast"]',
    "env": 'give a table of strings, e.g. env = { MY_SETTING = "1" }',
    "module": 'give a Python module name, e.g. module = "mypack.tasks"',
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


def describe_error(error: Mapping[str, Any], *, known: Iterable[str]) -> str:
    """One pydantic error of a task or settings entry as ``what is wrong - what to do``."""
    return describe_validation_error(error, known=known, hints=FIELD_HINTS)


def problems_of(
    errors: Iterable[Mapping[str, Any]],
    *,
    file: str,
    subject: str = "",
    known: Iterable[str] = (),
    line: int | None = None,
) -> list[Problem]:
    """The problems of one entry, from ``ValidationError.errors()``, each naming its field."""
    known = list(known)
    return [
        Problem(
            file, line, subject, str(error["loc"][0]) if error.get("loc") else None, describe_error(error, known=known)
        )
        for error in errors
    ]

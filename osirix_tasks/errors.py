"""Every error a user can cause, as one family under :class:`OsirixTasksError`.

The CLI catches the base class in one place and prints its message; the message always names the
file, line, field or object concerned and says what to do. Errors with structured details
(``RegistryError`` and its problems) subclass the base in their own package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "OsirixTasksError",
    "ContextUnavailable",
    "NoServer",
    "BadAddress",
    "ServerConfigError",
    "LockBusy",
    "NoBackup",
    "RunRefused",
    "RunBlocked",
    "StoreError",
    "ControlError",
    "PortUnavailable",
    "OsirixError",
    "OsirixUnreachable",
    "BadRequest",
    "describe_validation_error",
]


class OsirixTasksError(Exception):
    """The base of every error a user can cause; ``str(error)`` is the whole message to show."""

    #: The exit code the CLI uses when this error ends a command.
    exit_code = 1


class ContextUnavailable(OsirixTasksError):
    """What the task's type needs is not there in OsiriX; the message says what to open or select."""


class NoServer(OsirixTasksError):
    """No OsiriX server is known; the message says how to start or name one."""


class BadAddress(OsirixTasksError):
    """A server address that is not ``127.0.0.1:PORT``, ``localhost:PORT`` or ``PORT``."""


class ServerConfigError(OsirixTasksError):
    """server_configs.json cannot be read or written; the message names file, line and what to do."""


class LockBusy(OsirixTasksError):
    """Another process holds a file's writer lock for longer than we were willing to wait."""


class NoBackup(OsirixTasksError):
    """``restore`` was asked for but no ``.bak`` file exists."""


class RunRefused(OsirixTasksError):
    """A run cannot start (or be cancelled); the message says why and what to do."""


class RunBlocked(RunRefused):
    """A blocking task is running: OsiriX waits for it, and no other task starts meanwhile."""

    def __init__(self, task_name: str, run_id: str):
        self.task_name, self.run_id = task_name, run_id
        super().__init__(
            f"the blocking task '{task_name}' (run {run_id}) is running: no other task starts until it "
            f"ends - wait for it, or stop it with 'osirix-tasks cancel {run_id}'"
        )


class StoreError(OsirixTasksError):
    """The run store cannot be written (disk full, read-only ...); the message says what to do."""


class ControlError(OsirixTasksError):
    """A host could not be reached or refused a control request; the message says why."""


class PortUnavailable(OsirixTasksError):
    """A port cannot be served; the message says who holds it or why."""


class OsirixError(OsirixTasksError):
    """OsiriX answered status 0. ``rpc`` names the call, ``message`` is OsiriX's own text."""

    def __init__(self, rpc: str, message: str):
        self.rpc = rpc
        self.message = message
        super().__init__(f"{rpc}: {message or 'failed without a message'}")


class OsirixUnreachable(OsirixError):
    """No OsiriX answers at the address (not started, stopped, or another program on the port)."""


class BadRequest(OsirixTasksError):
    """A request to the web page carries a value that cannot be used; ``field`` names it (answered 400)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def describe_validation_error(
    error: Mapping[str, Any], *, known: Iterable[str] = (), hints: Mapping[str, str] | None = None
) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as ``what is wrong - what to do``.

    ``known`` lists the valid field names (for unknown-field errors); ``hints`` maps a field to what
    to write there. Messages raised by our own validators (``value_error``) are already in that shape.
    """
    kind = error["type"]
    name = str(error["loc"][0]) if error.get("loc") else ""
    hint = (hints or {}).get(name, "fix the value")
    if kind == "missing":
        return f"missing - add it: {hint}"
    if kind == "extra_forbidden":
        return f"unknown field - remove it or fix its spelling (known fields: {', '.join(known)})"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    got = error.get("input")
    return f"{str(error['msg']).lower()} (got {got!r}) - {hint}"

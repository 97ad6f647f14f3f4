"""Every error osirix-tasks raises on purpose, in one tree (every class is drawn here):

    OsirixTasksError                 every error a user can cause; the CLI prints its message
    ├── RegistryError                tasks.toml / script_configs.json cannot be used (``problems``: all of them)
    ├── FieldError                   a form of the page: problems by field; nothing was written
    ├── TaskNotFound                 no task (or more than one) has that name and type
    ├── ContextUnavailable           what the task's type needs is not open or selected in OsiriX
    ├── RunRefused                   a run cannot start, or be cancelled
    │   └── RunBlocked               a blocking task runs: nothing else starts until it ends
    ├── StoreError                   the run store cannot be opened or written
    ├── FileNotWritable              a file or folder we must change is read-only; nothing was written
    ├── LockBusy                     another process holds a file's writer lock
    ├── NoBackup                     ``restore`` without a ``.bak`` file
    ├── ServerConfigError            server_configs.json cannot be read or written
    ├── NoServer                     no OsiriX port is known
    ├── BadAddress                   an address that is not 127.0.0.1:PORT, localhost:PORT or PORT
    ├── PortUnavailable              a port cannot be served (taken, out of range)
    ├── ControlError                 a host cannot be reached, or refused a control request
    ├── HostStartError               a host exited or did not become ready
    ├── DatabaseError                the database folder cannot be opened or written (full disk, read-only)
    ├── DicomFileError               a file cannot be imported (also a ValueError)
    │   ├── UnlistableDicom          a DICOM file OsiriX would not list (no UIDs, an image without rows)
    │   ├── HeaderTooLarge           a header that goes on past the reading limit
    │   ├── InflatesTooFar           a deflated dataset that inflates past its bound
    │   └── DeclaredTooLarge         a header declaring more than the file holds or one decode may take
    ├── OsirixError                  status 0: OsiriX (real or embedded) refused a call
    │   ├── OsirixUnreachable        nothing answers at the address
    │   ├── NotAnImageObject         a non-image object (SR, RT plan ...) asked to open as an image
    │   ├── PlaneTooLarge            a plane whose decode would take more than one decode may
    │   └── ImportQueueFull          the embedded OsiriX's imports are queued to their limit
    ├── DicomNodeError               the DICOM node cannot do what was asked (settings, identifier, port)
    │   └── DicomPeerError           a remote DICOM node refused, failed or could not be reached
    ├── BatchError                   a batch cannot start, resume, be cancelled or be shown
    │   ├── SelectionError           a batch's selection is empty or malformed (names the term, uid or line)
    │   └── SchedulerUnreachable     no Dask scheduler answers at the address given
    ├── BadRequest                   the page was sent a value it cannot use (``field`` names it; 400)
    ├── UploadTooLarge               a file uploaded to the page is over the limit (413)
    ├── MprRefused                   a series the page cannot reformat as it is (tilted, sheared, uneven)
    └── TooManyStreams               every event-stream slot of the page is taken

The CLI catches the base class in one place and prints its message; the message always names the
file, line, field or object concerned and says what to do. :class:`OsirixError` is the protocol's
one status-0 failure: the client raises it when OsiriX answers status 0, and the embedded OsiriX
raises it inside an RPC to answer status 0 with its message (model: httpx's ``_exceptions.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "OsirixTasksError",
    "RegistryError",
    "FieldError",
    "TaskNotFound",
    "ContextUnavailable",
    "RunRefused",
    "RunBlocked",
    "StoreError",
    "FileNotWritable",
    "LockBusy",
    "NoBackup",
    "ServerConfigError",
    "NoServer",
    "BadAddress",
    "PortUnavailable",
    "ControlError",
    "HostStartError",
    "DatabaseError",
    "DicomFileError",
    "UnlistableDicom",
    "HeaderTooLarge",
    "InflatesTooFar",
    "DeclaredTooLarge",
    "OsirixError",
    "OsirixUnreachable",
    "NotAnImageObject",
    "PlaneTooLarge",
    "ImportQueueFull",
    "BatchError",
    "SelectionError",
    "SchedulerUnreachable",
    "BadRequest",
    "UploadTooLarge",
    "MprRefused",
    "TooManyStreams",
    "DicomNodeError",
    "DicomPeerError",
    "describe_validation_error",
]


class OsirixTasksError(Exception):
    """The base of every error a user can cause; ``str(error)`` is the whole message to show."""

    #: The exit code the CLI uses when this error ends a command.
    exit_code = 1


# --- tasks and runs --------------------------------------------------------------------------


class RegistryError(OsirixTasksError):
    """The registry cannot be used as it is; ``problems`` lists every reason (each a
    :class:`~osirix_tasks.registry.problems.Problem`: file, line, task, field, what to do)."""

    def __init__(self, problems: list[Any]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FieldError(OsirixTasksError):
    """Validation problems of a form by field (``""`` for the entry as a whole); nothing was written."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in fields.items()))


class TaskNotFound(OsirixTasksError):
    """No task, or more than one, answers to a name (and type); the message lists the known ones."""


class ContextUnavailable(OsirixTasksError):
    """What the task's type needs is not there in OsiriX; the message says what to open or select."""


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


# --- files -----------------------------------------------------------------------------------


class FileNotWritable(OsirixTasksError):
    """A file (or its folder) that must change is read-only or cannot be replaced; nothing was written."""


class LockBusy(OsirixTasksError):
    """Another process holds a file's writer lock for longer than we were willing to wait."""


class NoBackup(OsirixTasksError):
    """``restore`` was asked for but no ``.bak`` file exists."""


# --- ports, addresses and hosts --------------------------------------------------------------


class ServerConfigError(OsirixTasksError):
    """server_configs.json cannot be read or written; the message names file, line and what to do."""


class NoServer(OsirixTasksError):
    """No OsiriX port is known; the message says how to start or name one."""


class BadAddress(OsirixTasksError):
    """An address that is not ``127.0.0.1:PORT``, ``localhost:PORT`` or ``PORT``."""


class PortUnavailable(OsirixTasksError):
    """A port cannot be served; the message says who holds it or why."""


class ControlError(OsirixTasksError):
    """A host could not be reached or refused a control request; the message says why."""


class HostStartError(OsirixTasksError):
    """The host exited or did not become ready; the message carries the end of its output."""


# --- DICOM files -----------------------------------------------------------------------------


class DatabaseError(OsirixTasksError):
    """The database folder cannot be opened or written (full disk, quota, read-only, permissions)."""


class DicomFileError(OsirixTasksError, ValueError):
    """A file cannot be imported; the importer skips it and names it in its summary."""


class UnlistableDicom(DicomFileError):
    """A DICOM file that OsiriX would not list (no UIDs, or an image without rows/columns)."""


class HeaderTooLarge(DicomFileError):
    """The header of a file goes on for more than the reading limit (``MAX_HEADER_BYTES``)."""


class InflatesTooFar(DicomFileError):
    """A deflated dataset inflates to more than it may (its header, or all of it to decode a frame)."""


class DeclaredTooLarge(DicomFileError):
    """A header declares more pixel data than the file holds, or frames one decode may not allocate."""


# --- the OsiriXgrpc protocol -----------------------------------------------------------------


class OsirixError(OsirixTasksError):
    """Status 0: OsiriX refused a call. ``message`` is OsiriX's own text; ``rpc`` names the call
    (empty while the embedded OsiriX raises it inside an RPC, whose handler answers status 0 with
    the message)."""

    def __init__(self, message: str, *, rpc: str = ""):
        self.rpc = rpc
        self.message = message
        text = message or "failed without a message"
        super().__init__(f"{rpc}: {text}" if rpc else text)


class OsirixUnreachable(OsirixError):
    """No OsiriX answers at the address (not started, stopped, or another program on the port)."""


class NotAnImageObject(OsirixError, ValueError):
    """A non-image object (SR, presentation state, RT plan ...) asked to open as an image."""


class PlaneTooLarge(OsirixError, ValueError):
    """A plane whose decode would take more than one decode may allocate (indexed before that bound)."""


class ImportQueueFull(OsirixError, RuntimeError):
    """The embedded OsiriX has its limit of imports waiting already."""


# --- batches ----------------------------------------------------------------------------------


class BatchError(OsirixTasksError):
    """A batch cannot start, resume, be cancelled or be shown; the message says why and what to do."""


class SelectionError(BatchError):
    """A batch's selection is empty or malformed (a bad ``--where`` term, an unknown uid, a uid file's
    line); the message names the term, uid or line."""


class SchedulerUnreachable(BatchError):
    """No Dask scheduler answers at the address given (``--scheduler``, or the registry's setting)."""


# --- the web page ----------------------------------------------------------------------------


class BadRequest(OsirixTasksError):
    """A request to the web page carries a value that cannot be used; ``field`` names it (answered 400)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class MprRefused(OsirixTasksError):
    """A series cannot be reformatted as it is (tilted, sheared or unevenly spaced slices): the page says why."""


class UploadTooLarge(OsirixTasksError, ValueError):
    """A file the page uploads is larger than the limit (answered 413; what was written is removed)."""


class TooManyStreams(OsirixTasksError, RuntimeError):
    """Every event-stream slot of the page is taken (answered 503)."""


# --- the DICOM node --------------------------------------------------------------------------


class DicomNodeError(OsirixTasksError):
    """The DICOM node cannot do what was asked (settings, a bad identifier, a port); the message says why."""


class DicomPeerError(DicomNodeError):
    """A remote DICOM node refused, failed or could not be reached; the message names it and its answer."""


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

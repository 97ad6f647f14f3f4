"""osirix-tasks: write, share, run and test scripts for the OsiriX DICOM viewer.

The public API is what this module exports; everything else is internal. Names are loaded on
first use, so that ``osirix-tasks --help`` and other light commands do not pay for pydantic,
pluggy or gRPC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._support.lazy import lazy_exports

if TYPE_CHECKING:
    from .context import TaskContext
    from .contract import Target
    from .decorators import osirix_task
    from .errors import ContextUnavailable, OsirixTasksError
    from .hookspecs import hookimpl
    from .model import TaskSpec, TaskType

__all__ = [
    "osirix_task",
    "hookimpl",
    "context",
    "TaskType",
    "TaskSpec",
    "TaskContext",
    "Target",
    "ContextUnavailable",
    "OsirixTasksError",
    "__version__",
]

__version__ = "0.1.0"

_HOMES = {
    "osirix_task": ".decorators",
    "hookimpl": ".hookspecs",
    "TaskType": ".model",
    "TaskSpec": ".model",
    "TaskContext": ".context",
    "Target": ".contract",
    "ContextUnavailable": ".errors",
    "OsirixTasksError": ".errors",
}


__getattr__ = lazy_exports(__name__, _HOMES)


def __dir__() -> list[str]:
    return sorted(__all__)


def context(type: str | None = None, *, exit_when_missing: bool = True) -> TaskContext:
    """The connected context of the running script task, built by the same hooks as for decorated tasks.

    ``type`` defaults to the type the runner started the script as (Database otherwise). When what
    the task needs is not there (no server, no viewer, no selection), the script ends as a decorated
    task would: the one-line message on stderr and exit code 3. With ``exit_when_missing=False``,
    :class:`ContextUnavailable` is raised instead, for the script to handle.
    """
    import sys

    from .contract import ExitCode
    from .errors import ContextUnavailable
    from .run.context_build import script_context

    try:
        return script_context(type)
    except ContextUnavailable as exc:
        if not exit_when_missing:
            raise
        print(f"osirix-tasks: {exc}", file=sys.stderr)
        raise SystemExit(ExitCode.CONTEXT_UNAVAILABLE) from None

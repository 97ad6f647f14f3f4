"""osirix-tasks: write, share, run and test scripts for the OsiriX DICOM viewer.

The public API is what this module exports; everything else is internal.
"""

from .decorators import osirix_task
from .errors import ContextUnavailable, OsirixTasksError
from .hookspecs import hookimpl
from .model import TaskSpec, TaskType
from .run.context import TaskContext

__all__ = [
    "osirix_task",
    "hookimpl",
    "context",
    "TaskType",
    "TaskSpec",
    "TaskContext",
    "ContextUnavailable",
    "OsirixTasksError",
    "__version__",
]


def context(type: str | None = None) -> TaskContext:
    """The connected context of the running script task, built by the same hooks as for decorated tasks.

    ``type`` defaults to the type the runner started the script as (Database otherwise). Raises
    :class:`ContextUnavailable` saying what to open or select in OsiriX.
    """
    from .run.context_build import script_context

    return script_context(type)


__version__ = "0.1.0"

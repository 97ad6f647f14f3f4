"""osirix-tasks: write, share, run and test scripts for the OsiriX DICOM viewer.

The public API is what this module exports; everything else is internal.
"""

from .context import TaskContext
from .decorators import osirix_task
from .hookspecs import hookimpl
from .model import TaskSpec, TaskType

__all__ = ["osirix_task", "hookimpl", "TaskType", "TaskSpec", "TaskContext", "__version__"]

__version__ = "0.1.0"

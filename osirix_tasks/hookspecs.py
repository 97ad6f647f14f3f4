"""Every hook a plugin can implement. Each docstring is that hook's documentation.

A plugin is any module or object with functions marked ``@osirix_tasks.hookimpl``, registered
through the ``osirix_tasks`` entry-point group, a ``.py`` file in the local plugins folder, or
built in (``osirix_tasks._builtin_plugin``: the builtins use these same hooks).
"""

from __future__ import annotations

from typing import Any

import pluggy

from .context import TaskContext
from .model import TaskSpec

hookspec = pluggy.HookspecMarker("osirix_tasks")
hookimpl = pluggy.HookimplMarker("osirix_tasks")


@hookspec
def osirix_tasks_register_tasks() -> list[Any]:
    """Return the tasks this plugin provides.

    Items may be functions decorated with ``@osirix_task``, :class:`TaskSpec` objects (for
    script tasks: an absolute ``location``), or modules, whose decorated functions are taken.
    A (name, type) that another source already has makes the whole plugin be skipped and
    reported, so that one broken pack cannot change what another one provides.
    """
    raise NotImplementedError


@hookspec
def osirix_tasks_context(context: TaskContext, task: TaskSpec) -> None:
    """Add to or change ``context`` before ``task`` runs (in the task's own process).

    Called after the connection is made; the builtin implementation fills the objects the
    task's type needs. Raise :class:`osirix_tasks.ContextUnavailable` with a message saying
    what to open or select in OsiriX when the task cannot run.
    """

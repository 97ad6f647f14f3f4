"""Every hook a plugin can implement. Each docstring is that hook's documentation.

A plugin is any module or object with functions marked ``@osirix_tasks.hookimpl``, registered
through the ``osirix_tasks`` entry-point group, a ``.py`` file in the local plugins folder, or
built in (``osirix_tasks.builtin.default_tasks`` and ``default_context``: the builtins use these
same hooks).
"""

from __future__ import annotations

from collections.abc import Callable
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
def osirix_tasks_environment(task: TaskSpec, env: dict[str, str]) -> None:
    """Add variables to ``env``, the environment a run of ``task`` starts with (runner side).

    The runner starts tasks with a minimal environment, as the plugin does: HOME, PATH (the
    interpreter's folder first), OSIRIX_TASKS_SERVER, OSIRIX_TASKS_RUN_ID, OSIRIX_TASKS_TASK_NAME
    and OSIRIX_TASKS_TASK_TYPE. Change ``env`` in place.
    """


@hookspec(firstresult=True)
def osirix_tasks_run_task(context: TaskContext, task: TaskSpec, function: Callable[..., Any]) -> Any:
    """Call the task body ``function(context)`` (in the task's own process).

    The builtin implementation calls it last; implement it with ``@hookimpl(wrapper=True)`` to
    run code before and after every task (timing, error reporting, cleanup)::

        @hookimpl(wrapper=True)
        def osirix_tasks_run_task(context, task, function):
            started = time.perf_counter()
            result = yield
            print(f"{task.name} took {time.perf_counter() - started:.2f} s")
            return result
    """


@hookspec
def osirix_tasks_context(context: TaskContext, task: TaskSpec) -> None:
    """Add to or change ``context`` before ``task`` runs (in the task's own process).

    Called after the connection is made; the builtin implementation fills the objects the
    task's type needs. Raise :class:`osirix_tasks.ContextUnavailable` with a message saying
    what to open or select in OsiriX when the task cannot run.
    """

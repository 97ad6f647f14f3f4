"""Build a task's context through the hooks: shared by the launcher and ``osirix_tasks.context()``."""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

from .._support.paths import registry_path
from ..context import TaskContext
from ..contract import Env, Target
from ..errors import ContextUnavailable
from ..model import TaskSpec, TaskType
from ..plugins import PluginSet, load_plugins
from ..registry import load_settings

__all__ = ["task_plugins", "build_context", "script_context", "target_from_env"]


def task_plugins(registry: str | os.PathLike[str] | None = None) -> PluginSet:
    """The plugins a running task sees: the registry's settings, its folder on sys.path, the builtin
    context plugin."""
    path = registry_path(registry)
    loaded = load_settings(path)
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.append(folder)
    return load_plugins(disabled=loaded.settings.disabled_packs, plugins_dir=loaded.plugins_dir, with_context=True)


def target_from_env() -> Target | None:
    """The run's explicit target (``Env.TARGET``), or None; ContextUnavailable when it is malformed."""
    try:
        return Target.from_env(os.environ.get(Env.TARGET))
    except ValueError as exc:
        raise ContextUnavailable(str(exc)) from None


def build_context(task: TaskSpec, plugins: PluginSet, args: list[str] | None = None) -> TaskContext:
    """A connected context for ``task`` (with the run's target, when it was given one); raises
    ContextUnavailable saying what to open or select."""
    context = TaskContext(
        task=task,
        server=os.environ.get(Env.SERVER),
        run_id=os.environ.get(Env.RUN_ID),
        args=list(args or []),
        target=target_from_env(),
    )
    plugins.manager.hook.osirix_tasks_context(context=context, task=task)
    return context


def script_context(kind: str | None = None) -> TaskContext:
    """The context of the running script task (see :func:`osirix_tasks.context`)."""
    script = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    type_name = kind or os.environ.get(Env.TASK_TYPE) or "Database"
    name = os.environ.get(Env.TASK_NAME) or Path(script).stem or "script"
    location = script if script.endswith(".py") and os.path.isfile(script) else "__main__:script"
    task = TaskSpec(name=name, type=TaskType.parse(type_name), location=location)
    context = build_context(task, task_plugins(os.environ.get(Env.REGISTRY)), sys.argv[1:])
    if context.cleanups:  # a viewer opened for the run is closed when the script ends
        atexit.register(context.close)
    return context

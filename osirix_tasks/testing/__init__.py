"""What task authors (and our own tests) use to test against a real embedded OsiriX.

``running_host`` starts ``osirix-tasks serve`` in a separate process with an isolated home;
``Project`` is a temporary registry with the CLI run against it; ``OsirixSession`` is the
``osirix`` fixture's handle on a host (open, draw, select, reset); ``run_task`` runs a task
through the real runner. The pytest fixtures are in :mod:`osirix_tasks.testing.pytest_plugin`
(loaded by pytest on its own, so names here load on first use: every pytest run imports it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._support.lazy import lazy_exports

if TYPE_CHECKING:
    from .environment import isolated_env
    from .hosts import RunningHost, running_host
    from .project import Project
    from .session import DEFAULT_ROI_NAME, OsirixSession, osirix_session
    from .tasks import TaskResult, run_task
    from .venvs import overlay_venv, pip_install_local, venv_python

__all__ = [
    "isolated_env",
    "RunningHost",
    "running_host",
    "Project",
    "OsirixSession",
    "osirix_session",
    "DEFAULT_ROI_NAME",
    "TaskResult",
    "run_task",
    "overlay_venv",
    "pip_install_local",
    "venv_python",
]

_HOMES = {
    "isolated_env": ".environment",
    "RunningHost": ".hosts",
    "running_host": ".hosts",
    "Project": ".project",
    "OsirixSession": ".session",
    "osirix_session": ".session",
    "DEFAULT_ROI_NAME": ".session",
    "TaskResult": ".tasks",
    "run_task": ".tasks",
    "overlay_venv": ".venvs",
    "pip_install_local": ".venvs",
    "venv_python": ".venvs",
}


__getattr__ = lazy_exports(__name__, _HOMES)

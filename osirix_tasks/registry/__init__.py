"""The task registry, ``tasks.toml``: load and validate with line numbers, textual edits, and the
OsiriXgrpc plugin's own ``script_configs.json``.

Names are loaded on first use: listing tasks does not pay for the editing machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._support.lazy import lazy_exports

if TYPE_CHECKING:
    from .edit import add_tasks, remove_task
    from .load import ModuleSource, Registry, load_registry, load_settings
    from .problems import Problem, RegistryError, describe_error, problems_of

__all__ = [
    "Problem",
    "RegistryError",
    "Registry",
    "ModuleSource",
    "load_registry",
    "load_settings",
    "add_tasks",
    "remove_task",
    "describe_error",
    "problems_of",
]

_HOMES = {
    "Problem": ".problems",
    "RegistryError": ".problems",
    "describe_error": ".problems",
    "problems_of": ".problems",
    "Registry": ".load",
    "ModuleSource": ".load",
    "load_registry": ".load",
    "load_settings": ".load",
    "add_tasks": ".edit",
    "remove_task": ".edit",
}


__getattr__ = lazy_exports(__name__, _HOMES)

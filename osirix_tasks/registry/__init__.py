"""The task registry, ``tasks.toml``: load and validate with line numbers, textual edits, and the
OsiriXgrpc plugin's own ``script_configs.json``."""

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

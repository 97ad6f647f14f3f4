"""The pluggy PluginManager: builtin plugin, local plugins folder, installed packs."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pluggy

from . import hookspecs

__all__ = ["ENTRY_POINT_GROUP", "PluginSet", "load_plugins"]

ENTRY_POINT_GROUP = "osirix_tasks"
BUILTIN = "builtin"


@dataclass
class PluginSet:
    """A PluginManager plus where each plugin came from and what failed to load."""

    manager: pluggy.PluginManager
    origins: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("osirix_tasks")
    manager.add_hookspecs(hookspecs)
    return manager


def load_plugins(
    *, disabled: list[str] | tuple[str, ...] = (), plugins_dir: Path | None = None, with_context: bool = False
) -> PluginSet:
    """Register the builtin plugin, every ``*.py`` of ``plugins_dir`` and every installed pack.

    A plugin whose name (entry-point name or distribution name) is in ``disabled`` is not
    loaded. A plugin that fails to import is reported with its name and skipped. The builtin
    context plugin (connection, objects by task type) is registered when ``with_context``: the
    task's own process needs it, listing tasks does not.
    """
    plugins = PluginSet(_new_manager())
    blocked = set(disabled)
    if BUILTIN not in blocked:
        from . import _builtin_plugin

        plugins.manager.register(_builtin_plugin, name=BUILTIN)
        plugins.origins[BUILTIN] = "builtin"
    if with_context:
        from . import _builtin_context

        plugins.manager.register(_builtin_context, name="builtin-context")
    if plugins_dir is not None and plugins_dir.is_dir():
        for path in sorted(plugins_dir.glob("*.py")):
            name = f"plugins/{path.name}"
            if name in blocked or path.stem in blocked:
                continue
            _register_file(plugins, name, path)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        dist = entry.dist.name if entry.dist is not None else entry.name
        if entry.name in blocked or dist in blocked:
            continue
        origin = f"pack {dist}"
        try:
            plugin = entry.load()
            plugins.manager.register(plugin, name=f"pack:{entry.name}")
        except Exception as exc:  # a broken pack must not break the others
            plugins.problems.append(
                f"pack '{dist}' (entry point {entry.name} = {entry.value}): cannot be loaded: "
                f"{type(exc).__name__}: {exc} - skipped; fix or uninstall it, or disable it in "
                f"tasks.toml with [settings] disabled_packs = [\"{dist}\"]"
            )
            continue
        plugins.origins[f"pack:{entry.name}"] = origin
    return plugins


def _register_file(plugins: PluginSet, name: str, path: Path) -> None:
    module_name = f"osirix_tasks_local_plugins.{path.stem}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        plugins.manager.register(module, name=name)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        plugins.problems.append(
            f"local plugin '{path}': cannot be loaded: {type(exc).__name__}: {exc} - skipped; "
            "fix the file or move it out of the plugins folder"
        )
        return
    plugins.origins[name] = f"local plugin {path.name}"

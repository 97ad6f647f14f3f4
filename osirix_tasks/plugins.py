"""The pluggy PluginManager: builtin plugins, local plugins folder, installed packs.

The contract is strict: a plugin with a hook implementation that matches no hookspec (a typo such
as ``osirix_tasks_register_task``) is reported as a problem of that plugin and not used, rather
than silently ignored.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs
from ._support.installed import refresh_installed

__all__ = ["ENTRY_POINT_GROUP", "PluginSet", "load_plugins"]

ENTRY_POINT_GROUP = "osirix_tasks"
BUILTIN = "builtin"
#: Our own behaviour, written as plugins of our own hooks (datasette's DEFAULT_PLUGINS): the builtin
#: tasks, and the context every task receives. Named, not imported, so this module stays below them.
DEFAULT_TASKS = "osirix_tasks.builtin.default_tasks"
DEFAULT_CONTEXT = "osirix_tasks.builtin.default_context"


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
    refresh_installed()  # a pack installed while this process runs (a host) is seen, editable ones too
    plugins = PluginSet(_new_manager())
    blocked = set(disabled)
    known = {BUILTIN}
    if BUILTIN not in blocked:
        plugins.manager.register(importlib.import_module(DEFAULT_TASKS), name=BUILTIN)
        plugins.origins[BUILTIN] = "builtin"
    if with_context:
        plugins.manager.register(importlib.import_module(DEFAULT_CONTEXT), name="builtin-context")
    if plugins_dir is not None and plugins_dir.is_dir():
        for path in sorted(plugins_dir.glob("*.py")):
            name = f"plugins/{path.name}"
            known.update((name, path.stem))
            if name not in blocked and path.stem not in blocked:
                _register_file(plugins, name, path)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        dist = entry.dist.name if entry.dist is not None else entry.name
        known.update((entry.name, dist))
        if entry.name not in blocked and dist not in blocked:
            _register_pack(plugins, entry, dist)
    _report_unknown_disabled(plugins, blocked, known)
    return plugins


def _register_pack(plugins: PluginSet, entry: Any, dist: str) -> None:
    """Load and register an installed pack's entry point (a broken pack is reported, not raised)."""
    label = f"pack '{dist}' (entry point {entry.name} = {entry.value})"
    fix = f'fix or uninstall it, or disable it in tasks.toml with [settings] disabled_packs = ["{dist}"]'
    try:
        plugin = entry.load()
        plugins.manager.register(plugin, name=f"pack:{entry.name}")
    except Exception as exc:  # a broken pack must not break the others
        plugins.problems.append(f"{label}: cannot be loaded: {type(exc).__name__}: {exc} - skipped; {fix}")
        return
    if _check_hooks(plugins, f"pack:{entry.name}", label, fix):
        plugins.origins[f"pack:{entry.name}"] = f"pack {dist}"


def _report_unknown_disabled(plugins: PluginSet, blocked: set[str], known: set[str]) -> None:
    """A disabled name that is no pack or local plugin is a problem (with the closest known name)."""
    for name in sorted(blocked - known):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        plugins.problems.append(
            f"settings: disabled_packs names {name!r}, which is neither an installed pack nor a local plugin"
            + (f" (did you mean {close[0]!r}?)" if close else "")
            + " - remove it or fix its spelling"
        )


def _unknown_hooks(manager: pluggy.PluginManager, plugin: Any) -> list[str]:
    """Names of ``plugin``'s hook implementations that match no hookspec."""
    return sorted(
        caller.name
        for caller in manager.get_hookcallers(plugin) or []
        if caller.spec is None and not any(impl.optionalhook for impl in caller.get_hookimpls())
    )


def _unmarked_hooks(manager: pluggy.PluginManager, plugin: Any) -> list[str]:
    """Names of hook functions the plugin defines without ``@hookimpl`` (pluggy would ignore them)."""
    return sorted(
        name
        for name in getattr(plugin, "__dict__", {})
        if name.startswith("osirix_tasks_")
        and callable(getattr(plugin, name))
        and manager.parse_hookimpl_opts(plugin, name) is None
    )


def _check_hooks(plugins: PluginSet, name: str, label: str, fix: str) -> bool:
    """Unregister and report the plugin ``name`` when it implements a hook that does not exist, or
    defines a hook function without marking it."""
    plugin = plugins.manager.get_plugin(name)
    unknown = _unknown_hooks(plugins.manager, plugin)
    unmarked = _unmarked_hooks(plugins.manager, plugin)
    if not unknown and not unmarked:
        return True
    plugins.manager.unregister(name=name)
    known = [n for n in dir(hookspecs) if n.startswith("osirix_tasks_")]
    reasons = []
    if unknown:
        details = []
        for hook in unknown:
            close = difflib.get_close_matches(hook, known, n=1)
            details.append(f"'{hook}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        reasons.append(
            f"implements {', '.join(details)}, which is not an osirix-tasks hook (known: {', '.join(known)})"
        )
    if unmarked:
        reasons.append(
            f"defines {', '.join(repr(n) for n in unmarked)} without @osirix_tasks.hookimpl, so it would never be "
            "called"
        )
    plugins.problems.append(f"{label}: {'; '.join(reasons)} - skipped; {fix}")
    return False


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
    if _check_hooks(plugins, name, f"local plugin '{path}'", "fix the file or move it out of the plugins folder"):
        plugins.origins[name] = f"local plugin {path.name}"

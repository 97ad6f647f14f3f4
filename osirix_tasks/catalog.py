"""Every task osirix-tasks knows, from every source, and the menus OsiriX would show them in.

Sources, in order of precedence (the first to claim a (name, type) keeps it): the builtin
plugin, the registry's ``[[task]]`` entries, the modules the registry names, the local plugins
folder, installed packs. A registry entry that clashes is a registry problem; a module or plugin
that clashes, fails or returns something invalid is skipped whole and reported by name.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .decorators import load_task_function, task_of, tasks_in_module
from .errors import TaskNotFound
from .model import FILE_FUNCTION_LOCATION, TaskSpec, TaskType
from .plugins import PluginSet, load_plugins
from .registry import Registry

__all__ = ["CatalogEntry", "Catalog", "build_catalog", "MENU_LAYOUT", "menus"]


@dataclass(frozen=True)
class CatalogEntry:
    """A task and the source it comes from (``builtin``, ``tasks.toml:12``, ``pack NAME`` ...)."""

    spec: TaskSpec
    origin: str

    def to_json(self) -> dict[str, Any]:
        """The task's fields plus ``origin``."""
        return {**self.spec.to_json(), "origin": self.origin}


@dataclass
class Catalog:
    """The merged task list and every problem met while building it."""

    registry: Registry
    entries: list[CatalogEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    plugins: PluginSet | None = None

    def find(self, name: str, kind: TaskType | None = None) -> list[CatalogEntry]:
        """Entries named ``name`` (of type ``kind`` when given)."""
        return [e for e in self.entries if e.spec.name == name and (kind is None or e.spec.type == kind)]

    def resolve(self, name: str, kind: TaskType | None = None) -> CatalogEntry:
        """The one task named ``name`` (of type ``kind``): the lookup every run goes through.

        TaskNotFound otherwise, saying why it cannot run (its registry problems), or which tasks
        there are, or which types share the name.
        """
        found = self.find(name, kind)
        if len(found) == 1:
            return found[0]
        if found:
            kinds = ", ".join(e.spec.type.value for e in found)
            raise TaskNotFound(f"{len(found)} tasks are named {name!r} ({kinds}) - give its type (--type)")
        broken = [p for p in self.problems if f"task '{name}'" in p]
        if broken:
            raise TaskNotFound(f"task '{name}' cannot run: " + "; ".join(broken))
        of_type = f" of type {kind.value}" if kind else ""
        known = ", ".join(sorted({f"{e.spec.name} ({e.spec.type.value})" for e in self.entries})) or "none"
        unloadable = [p for p in self.problems if "cannot be loaded" in p or "cannot be imported" in p]
        also = f"; problems: {'; '.join(unloadable)}" if unloadable else ""
        raise TaskNotFound(
            f"no task named {name!r}{of_type} in {self.registry.path}{also} - known tasks: {known}. "
            "Check the name, or install the pack that provides it ('osirix-tasks tasks list' lists them)"
        )

    def of_type(self, kind: TaskType) -> list[CatalogEntry]:
        """Entries of one task type, in catalog order."""
        return [e for e in self.entries if e.spec.type == kind]


def _specs_from(items: Iterable[Any] | None) -> Iterator[TaskSpec]:
    for item in items or ():
        if isinstance(item, TaskSpec):
            yield item
        elif isinstance(item, ModuleType):
            yield from tasks_in_module(item)
        elif (spec := task_of(item)) is not None:
            yield spec
        else:
            raise TypeError(
                f"{item!r} is not a task - return @osirix_task functions, TaskSpec objects or "
                "modules from osirix_tasks_register_tasks()"
            )


class _Claims:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.owner: dict[tuple[str, TaskType], str] = {}

    def clashes(self, specs: list[TaskSpec]) -> list[str]:
        found, own = [], set()
        for spec in specs:
            if spec.key in self.owner:
                found.append(f"task '{spec.name}' ({spec.type.value}) is already provided by {self.owner[spec.key]}")
            elif spec.key in own:
                found.append(f"task '{spec.name}' ({spec.type.value}) is defined twice")
            own.add(spec.key)
        return found

    def add(self, specs: list[TaskSpec], origin: str) -> None:
        for spec in specs:
            self.owner[spec.key] = origin
            self.catalog.entries.append(CatalogEntry(spec, origin))

    def add_group(self, specs: list[TaskSpec], origin: str, fix: str) -> None:
        clashes = self.clashes(specs)
        if clashes:
            self.catalog.problems.append(f"{origin}: {'; '.join(clashes)} - skipped; {fix}")
        else:
            self.add(specs, origin)


def build_catalog(registry: Registry, *, plugins: PluginSet | None = None, offer_invalid: bool = True) -> Catalog:
    """Merge the registry with the builtin tasks, named modules, local plugins and packs.

    With ``offer_invalid`` False (what a host offers on its page), a registry that ``tasks validate``
    rejects offers none of its own tasks until it is fixed; its problems say why."""
    if plugins is None:
        plugins = load_plugins(disabled=registry.settings.disabled_packs, plugins_dir=registry.plugins_dir)
    catalog = Catalog(registry=registry, plugins=plugins)
    catalog.problems.extend(str(p) for p in registry.problems)
    catalog.problems.extend(plugins.problems)
    claims = _Claims(catalog)
    hook_impls = {impl.plugin_name: impl for impl in plugins.manager.hook.osirix_tasks_register_tasks.get_hookimpls()}

    def add_plugin(name: str) -> None:
        origin = plugins.origins[name]
        impl = hook_impls.get(name)
        if impl is None:
            return
        try:
            specs = list(_specs_from(impl.function()))  # type: ignore[arg-type]
        except Exception as exc:
            catalog.problems.append(
                f"{origin}: osirix_tasks_register_tasks() failed: "
                f"{type(exc).__name__}: {exc} - skipped; fix or disable it"
            )
            return
        claims.add_group(specs, origin, "rename the task or disable one of the sources")

    if "builtin" in plugins.origins:
        add_plugin("builtin")
    label = registry.path.name
    _add_registry_folder(registry)
    if registry.problems and not offer_invalid:
        catalog.problems.append(
            f"{registry.path}: none of its tasks are offered until its problems are fixed "
            "(see 'osirix-tasks tasks validate')"
        )
        registry = dataclasses.replace(registry, tasks=[], modules=[])
    for spec in registry.tasks:
        line = registry.line_of(spec.key)
        origin = f"{label}:{line}" if line else label
        if not spec.is_script and not spec.description:
            spec = _with_docstring(spec, origin, catalog)
        clashes = claims.clashes([spec])
        if clashes:
            catalog.problems.append(f"{origin}: {clashes[0]} - rename it or change its type")
        else:
            claims.add([spec], origin)
    _add_modules(registry, claims)
    for name in plugins.origins:
        if name != "builtin":
            add_plugin(name)
    return catalog


def _add_registry_folder(registry: Registry) -> None:
    folder = str(registry.path.parent)
    if folder not in sys.path:
        sys.path.append(folder)


def _with_docstring(spec: TaskSpec, origin: str, catalog: Catalog) -> TaskSpec:
    """A registry entry for a decorated function, described by the function's docstring when the entry
    gives no description (the entry's name and type still win). A function of a file is described
    from its source, without running it."""
    in_file = FILE_FUNCTION_LOCATION.match(spec.location)
    if in_file:
        from .registry.decorated import description_of

        text = description_of(Path(in_file["path"]), in_file["function"])
        return spec.model_copy(update={"description": text}) if text else spec
    try:
        own = task_of(load_task_function(spec.location))
    except Exception as exc:  # noqa: BLE001 - any import error of the user's module is reported
        catalog.problems.append(
            f"{origin}: task '{spec.name}' ({spec.type.value}): {spec.location} cannot be loaded: "
            f"{type(exc).__name__}: {exc} - fix the module or the location"
        )
        return spec
    return spec.model_copy(update={"description": own.description}) if own and own.description else spec


def _add_modules(registry: Registry, claims: _Claims) -> None:
    _add_registry_folder(registry)
    for source in registry.modules:
        where = f"{registry.path.name}:{source.line}" if source.line else registry.path.name
        origin = f"module {source.module}"
        try:
            module = importlib.import_module(source.module)
            specs = tasks_in_module(module)
        except Exception as exc:
            claims.catalog.problems.append(
                f"{where}: module '{source.module}': cannot be imported: {type(exc).__name__}: "
                f"{exc} - skipped; install it or fix the module name"
            )
            continue
        claims.add_group(specs, origin, "rename the task or remove the module entry")


#: (window, submenu, task type) in the order OsiriX's toolbars show them.
MENU_LAYOUT: list[tuple[str, str | None, TaskType]] = [
    ("Database window", None, TaskType.DATABASE),
    ("2D viewer", "Image Filter", TaskType.IMAGE),
    ("2D viewer", "ROI Filter", TaskType.ROI),
    ("3D viewer", None, TaskType.VR_CONTROLLER),
]


def menus(catalog: Catalog) -> list[dict[str, Any]]:
    """The "gRPC Tasks" toolbar menu of each OsiriX window, as plain data."""
    windows: dict[str, dict[str, Any]] = {}
    for window, submenu, kind in MENU_LAYOUT:
        entry = windows.setdefault(window, {"window": window, "menus": []})
        entry["menus"].append(
            {
                "submenu": submenu,
                "type": kind.value,
                "entries": [
                    {
                        "name": e.spec.name,
                        "origin": e.origin,
                        "blocking": e.spec.blocking,
                        "description": e.spec.description,
                    }
                    for e in catalog.of_type(kind)
                ],
            }
        )
    return list(windows.values())

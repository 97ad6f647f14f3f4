"""Every public name has a docstring: the reference pages are generated from them (mkdocstrings).

Public means listed in a module's ``__all__``: the functions, classes and modules named there, and
the public methods and properties those classes define themselves. A name a module re-exports is
checked once, where it is defined.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import osirix_tasks

#: Modules that are not imported to be read: the ``python -m`` entry and the files put on a run's path.
NOT_IMPORTED = ("__main__", "._pyosirix_site")


def _modules() -> Iterator[ModuleType]:
    yield osirix_tasks
    for info in pkgutil.walk_packages(osirix_tasks.__path__, "osirix_tasks."):
        if not info.name.endswith(NOT_IMPORTED[0]) and NOT_IMPORTED[1] not in info.name:
            yield importlib.import_module(info.name)


def _documented(obj: Any) -> bool:
    return bool((inspect.getdoc(obj) or "").strip())


def _own_members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties ``cls`` defines itself (not inherited, not fields)."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            yield name, member.fget
        elif isinstance(member, (staticmethod, classmethod)):
            yield name, member.__func__
        elif inspect.isfunction(member):
            yield name, member


def undocumented_public_names() -> list[str]:
    """``module.name`` (or ``module.Class.method``) of every public name without a docstring."""
    missing: list[str] = []
    seen: set[int] = set()
    for module in _modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            where = f"{getattr(obj, '__module__', None) or module.__name__}.{getattr(obj, '__qualname__', name)}"
            if inspect.ismodule(obj):
                where = obj.__name__
            if not _documented(obj):
                missing.append(where)
            if inspect.isclass(obj):
                missing += [f"{where}.{m}" for m, f in _own_members(obj) if not (f.__doc__ or "").strip()]
    return sorted(missing)


def test_every_public_name_has_a_docstring() -> None:
    missing = undocumented_public_names()

    assert not missing, (
        f"{len(missing)} public name(s) have no docstring (the reference is generated from them): " + ", ".join(missing)
    )


def test_the_check_sees_a_missing_docstring() -> None:
    class Documented:
        """A class."""

        def method(self) -> None:
            pass

        @property
        def value(self) -> int:
            return 1

    assert {name for name, f in _own_members(Documented) if not (f.__doc__ or "").strip()} == {"method", "value"}

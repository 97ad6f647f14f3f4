"""Every public name has a docstring: the reference pages are generated from them (mkdocstrings).

Public means listed in a module's ``__all__``: the functions, classes and modules named there, and
the public methods and properties those classes define themselves (an override may take its
docstring from the method it overrides, as ``inspect.getdoc`` does). A name a module re-exports is
checked once.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from types import FunctionType, ModuleType
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
    """Whether ``obj`` carries a docstring of its own (a dataclass's generated signature is not one)."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    doc = (getattr(obj, "__doc__", None) or "").strip()
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        return False
    return bool(doc)


def _undocumented_members(cls: type) -> Iterator[str]:
    """The public methods and properties ``cls`` defines itself (not fields) that have no docstring."""
    for name, member in vars(cls).items():
        if name.startswith("_") or not isinstance(member, (property, staticmethod, classmethod, FunctionType)):
            continue
        if not any(_documented(vars(base).get(name)) for base in cls.__mro__ if name in vars(base)):
            yield name


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
                missing += [f"{where}.{name}" for name in _undocumented_members(obj)]
    return sorted(missing)


def test_every_public_name_has_a_docstring() -> None:
    missing = undocumented_public_names()

    assert not missing, (
        f"{len(missing)} public name(s) have no docstring (the reference is generated from them): " + ", ".join(missing)
    )


def test_the_check_sees_a_missing_docstring() -> None:
    class Base:
        """A class."""

        def method(self) -> None:
            pass

        def documented(self) -> None:
            """Documented here."""

        @property
        def value(self) -> int:
            return 1

    class Overriding(Base):
        """A subclass."""

        def documented(self) -> None:  # takes Base's docstring
            pass

        def other(self) -> None:
            pass

    @dataclasses.dataclass
    class Record:
        value: int

    assert not _documented(Record) and _documented(Base)
    assert set(_undocumented_members(Base)) == {"method", "value"}
    assert set(_undocumented_members(Overriding)) == {"other"}

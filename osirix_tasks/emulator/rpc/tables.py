"""Simple RPCs described as tables: getters that read fields of one object, setters that change one.

Most of the plugin's RPCs look up one object by uid (status 0 ``No <Type> cached`` otherwise) and
either answer some of its fields or set one of its values. Each module of ``rpc/`` lists those as
tables built with the helpers here; the odd cases stay functions there.

A *reader* is ``(state, obj) -> response fields``; :func:`field`, :func:`fields`, :func:`ref`,
:func:`refs` and :func:`available` build the usual ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...errors import OsirixError
from ..protocol import IMPLEMENTATIONS, RPC_NAMES, ok
from ..state import OsirixState

__all__ = ["Reader", "Resolver", "field", "fields", "ref", "refs", "available", "getters", "setters", "finite"]

#: ``(state, obj) -> fields of the response``.
Reader = Callable[[OsirixState, Any], dict[str, Any]]
#: ``(state, reference message) -> the live object`` (raises ``No <Type> cached``).
Resolver = Callable[[OsirixState, Any], Any]


def field(name: str, read: Callable[[Any], Any]) -> Reader:
    """One response field ``name`` = ``read(obj)``."""
    return lambda state, obj: {name: read(obj)}


def fields(**reads: Callable[[Any], Any]) -> Reader:
    """Several response fields, each ``name=read(obj)``."""
    return lambda state, obj: {name: read(obj) for name, read in reads.items()}


def ref(name: str, kind: str, read: Callable[[Any], Any]) -> Reader:
    """A reference field: the cached uid of the ``kind`` object ``read(obj)``."""
    return lambda state, obj: {name: state.ref(kind, read(obj))}


def refs(name: str, kind: str, read: Callable[[OsirixState, Any], Iterable[Any]]) -> Reader:
    """A repeated reference field over the ``kind`` objects ``read(state, obj)``."""
    return lambda state, obj: {name: [state.ref(kind, item) for item in read(state, obj)]}


def available(name: str, read: Callable[[Any], Any], missing: str) -> Reader:
    """A field OsiriX may not have: status 0 ``missing`` when ``read(obj)`` is None or empty."""

    def reader(state: OsirixState, obj: Any) -> dict[str, Any]:
        value = read(obj)
        if value is None or value == "":
            raise OsirixError(missing)
        return {name: value}

    return reader


def finite(value: float, what: str) -> float:
    """``value`` when it is a finite number. Our own refusal: the plugin passes NaN and infinities on."""
    if not math.isfinite(value):
        raise OsirixError(f"{what} must be a finite number, got {value}")
    return value


def getters(resolve: Resolver, table: Mapping[str, Reader]) -> None:
    """Register each ``rpc: reader`` of ``table``: resolve the request's object, answer the reader's fields."""
    for rpc, reader in table.items():
        _register(rpc, _getter(rpc, resolve, reader))


def setters(resolve: Resolver, target: str, table: Mapping[str, Callable[[Any, Any], None]]) -> None:
    """Register each ``rpc: apply`` of ``table``: resolve ``request.<target>`` (the request itself when
    ``target`` is empty), then ``apply(obj, request)`` under the state lock, and answer status 1."""
    for rpc, apply in table.items():
        _register(rpc, _setter(rpc, resolve, target, apply))


def _getter(rpc: str, resolve: Resolver, reader: Reader) -> Callable[[OsirixState, Any], Any]:
    def implementation(state: OsirixState, request: Any) -> Any:
        return ok(rpc, **reader(state, resolve(state, request)))

    return implementation


def _setter(rpc: str, resolve: Resolver, target: str, apply: Callable[[Any, Any], None]) -> Callable[..., Any]:
    def implementation(state: OsirixState, request: Any) -> Any:
        obj = resolve(state, getattr(request, target) if target else request)
        with state.lock:
            apply(obj, request)
        return ok(rpc)

    return implementation


def _register(rpc: str, implementation: Callable[[OsirixState, Any], Any]) -> None:
    if rpc not in RPC_NAMES:
        raise NameError(f"{rpc} is not an RPC of the OsiriX service")
    implementation.__name__ = implementation.__qualname__ = rpc
    IMPLEMENTATIONS[rpc] = implementation

"""OsiriXgrpc answers failures with ``status = 0`` and a message; we raise them."""

from __future__ import annotations

from typing import Any, TypeVar

from ..errors import OsirixError

__all__ = ["OsirixError", "check", "value_or"]

R = TypeVar("R")


def check(response: R, rpc: str = "OsiriX") -> R:
    """Return ``response`` when its status is 1, else raise :class:`OsirixError`."""
    status = response.status  # type: ignore[attr-defined]
    if status.status != 1:
        raise OsirixError(status.message, rpc=rpc)
    return response


def value_or(response: Any, name: str, default: Any = "") -> Any:
    """Field ``name`` of ``response`` when its status is 1, else ``default``: for what OsiriX may not
    have (a patient name, a description, a date: ``... not available``)."""
    if response.status.status != 1:
        return default
    return getattr(response, name)

"""OsiriXgrpc answers failures with ``status = 0`` and a message; we raise them."""

from __future__ import annotations

from typing import TypeVar

from ..errors import OsirixError

__all__ = ["OsirixError", "check"]

R = TypeVar("R")


def check(response: R, rpc: str = "OsiriX") -> R:
    """Return ``response`` when its status is 1, else raise :class:`OsirixError`."""
    status = response.status  # type: ignore[attr-defined]
    if status.status != 1:
        raise OsirixError(status.message, rpc=rpc)
    return response

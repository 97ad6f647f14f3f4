"""OsiriXgrpc answers failures with ``status = 0`` and a message; we raise them."""

from __future__ import annotations

from typing import TypeVar

__all__ = ["OsirixError", "check"]

R = TypeVar("R")


class OsirixError(RuntimeError):
    """OsiriX answered status 0. ``rpc`` names the call, ``message`` is OsiriX's own text."""

    def __init__(self, rpc: str, message: str):
        self.rpc = rpc
        self.message = message
        super().__init__(f"{rpc}: {message or 'failed without a message'}")


def check(response: R, rpc: str = "OsiriX") -> R:
    """Return ``response`` when its status is 1, else raise :class:`OsirixError`."""
    status = response.status  # type: ignore[attr-defined]
    if status.status != 1:
        raise OsirixError(rpc, status.message)
    return response

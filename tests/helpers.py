"""Helpers shared by the test rooms (fixtures live in ``conftest.py``)."""

from __future__ import annotations

from typing import Any


def ok(response: Any) -> Any:
    """The response, after asserting that OsiriX answered status 1 (the message is the assertion's)."""
    assert response.status.status == 1, response.status.message
    return response

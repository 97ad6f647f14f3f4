"""Words for counts in messages."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 study``, ``2 studies``, ``0 images``: the count with the right form of the noun."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"

"""The pack's plugin module: the entry point ``osirix_tasks`` names it."""

from __future__ import annotations

from typing import Any

from osirix_tasks import hookimpl

from . import tasks


@hookimpl
def osirix_tasks_register_tasks() -> list[Any]:
    """Offer the decorated functions of :mod:`osirix_tasks_example.tasks`."""
    return [tasks]

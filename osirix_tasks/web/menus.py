"""The "gRPC Tasks" menus: which tasks each window offers, and whether a task's context is there.

Before a menu entry starts a run, the context its type needs is looked for with the builtin context
plugin's own checks (the frontmost viewer, its selected ROIs, the frontmost 3D window), so an entry
whose context is missing says why instead of starting a run that would stop at once.
"""

from __future__ import annotations

from typing import Any

from ..builtin.default_context import FILL
from ..catalog import Catalog, menus
from ..client import Connection
from ..context import TaskContext
from ..errors import ContextUnavailable, OsirixError
from ..model import TaskSpec

__all__ = ["menu_data", "missing_context"]


def menu_data(catalog: Catalog) -> dict[str, Any]:
    """Every window's menu, keyed by window, with the catalog's problems."""
    return {"windows": menus(catalog), "problems": catalog.problems}


def missing_context(spec: TaskSpec, connection: Connection) -> str | None:
    """Why ``spec`` cannot run now (what to open or select), or None when its context is there."""
    context = TaskContext(task=spec, server=connection.address, connection=connection, stub=connection.stub)
    try:
        FILL[spec.type](context)
    except ContextUnavailable as exc:
        return str(exc)
    except OsirixError as exc:
        return f"OsiriX at {connection.address} answered: {exc}"
    return None

"""The "gRPC Tasks" menus of each window, and choosing an entry (context check, then a run)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ...errors import OsirixTasksError
from ...model import TaskType
from .. import menus as logic
from .. import runs
from ..api import Call, api
from ..context import WebContext


def listing(context: WebContext, call: Call) -> dict[str, Any]:
    return logic.menu_data(context.catalog())


def choose(context: WebContext, call: Call) -> dict[str, Any]:
    """Start a menu entry on the window it was chosen in (brought to the front first)."""
    name, kind = str(call.body.get("name") or ""), call.parsed("type", TaskType.parse)
    catalog = context.catalog()
    found = catalog.find(name, kind)
    if not found:
        raise OsirixTasksError(f"no task '{name}' ({kind.value}) - reload the menu")
    for key, window_kind in (("viewer", "ViewerController"), ("vr", "VRController")):
        if call.body.get(key):
            context.host_side.bring_to_front(str(call.body[key]), window_kind)
    why = logic.missing_context(found[0].spec, context.reader.connection)
    if why is not None:
        return {"started": False, "reason": why}
    record = runs.start_task(found[0], catalog, context.store(), server=context.target(), service=context.run_service())
    return {"started": True, "run": runs.run_summary(record)}


routes = [
    Route("/api/menus", api(listing), methods=["GET"]),
    Route("/api/menus/run", api(choose), methods=["POST"]),
]

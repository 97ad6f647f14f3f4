"""The "gRPC Tasks" menus of each window, and choosing an entry (context check, then a run)."""

from __future__ import annotations

from typing import Any, Literal

from starlette.routing import Route

from ...host.control_protocol import BringToFront
from ...model import TaskType
from .. import menus as logic
from .. import runs
from ..api import Call, api
from ..page import Page


def listing(page: Page, call: Call) -> dict[str, Any]:
    """The gRPC Tasks menus: every task of the catalog, grouped as OsiriX's toolbars group them."""
    return logic.menu_data(page.catalog())


def choose(page: Page, call: Call) -> dict[str, Any]:
    """Start a menu entry on the window it was chosen in (brought to the front first)."""
    name, kind = str(call.body.get("name") or ""), call.parsed("type", TaskType.parse)
    entry = page.catalog().resolve(name, kind)
    window_kinds: tuple[tuple[str, Literal["ViewerController", "VRController"]], ...] = (
        ("viewer", "ViewerController"),
        ("vr", "VRController"),
    )
    for key, window_kind in window_kinds:
        if call.body.get(key) and page.own_host() is not None:  # a real OsiriX's user clicks its window
            page.hand(BringToFront(uid=str(call.body[key]), kind=window_kind), "Bringing a window to the front")
    why = logic.missing_context(entry.spec, page.connection())
    if why is not None:
        return {"started": False, "reason": why}
    record = runs.start_task(page, entry)
    return {"started": True, "run": runs.run_summary(record)}


routes = [
    Route("/api/menus", api(listing), methods=["GET"]),
    Route("/api/menus/run", api(choose), methods=["POST"]),
]

"""Script Management: the task table, add / change / remove scripts, enable / disable packs."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ...model import TaskType
from .. import scripts as logic
from ..api import Call, api
from ..page import Page


def listing(page: Page, call: Call) -> dict[str, Any]:
    """The registry the page offers: its tasks (where each comes from), the packs, its problems."""
    catalog = page.catalog()
    return {
        "registry": str(page.registry),
        "tasks": logic.task_rows(catalog),
        "packs": logic.packs(catalog),
        "problems": catalog.problems,
    }


def add(page: Page, call: Call) -> dict[str, Any]:
    """Add a task to the registry (validated and written atomically, as ``tasks add``)."""
    spec = logic.add_script(page.catalog(), call.body)
    return {"message": f"Added '{spec.name}' ({spec.type.value})", **listing(page, call)}


def change(page: Page, call: Call) -> dict[str, Any]:
    """Change fields of a registry task (body: ``name``, ``type``, ``changes``)."""
    changes = call.mapping("changes")
    kind = call.parsed("type", TaskType.parse)
    logic.change_script(page.catalog(), str(call.body.get("name")), kind.value, changes)
    return {"message": f"Changed '{call.body.get('name')}'", **listing(page, call)}


def remove(page: Page, call: Call) -> dict[str, Any]:
    """Remove a task from the registry (body: ``name``, ``type``)."""
    kind = call.parsed("type", TaskType.parse)
    logic.remove_script(page.catalog(), str(call.body.get("name")), kind.value)
    return {"message": f"Removed '{call.body.get('name')}'", **listing(page, call)}


def pack(page: Page, call: Call) -> dict[str, Any]:
    """Enable or disable an installed pack (body: ``name``, ``enabled``)."""
    enabled = bool(call.body.get("enabled"))
    logic.set_pack_enabled(page.catalog(), str(call.body.get("name")), enabled)
    word = "Enabled" if enabled else "Disabled"
    return {"message": f"{word} {call.body.get('name')}", **listing(page, call)}


routes = [
    Route("/api/scripts", api(listing), methods=["GET"]),
    Route("/api/scripts", api(add), methods=["POST"]),
    Route("/api/scripts", api(change), methods=["PUT"]),
    Route("/api/scripts/remove", api(remove), methods=["POST"]),
    Route("/api/packs", api(pack), methods=["PUT"]),
]

"""Script Management: the task table, add / change / remove scripts, enable / disable packs."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ...model import TaskType
from .. import scripts as logic
from ..api import Call, api
from ..context import WebContext


def listing(context: WebContext, call: Call) -> dict[str, Any]:
    catalog = context.catalog()
    return {
        "registry": str(context.registry),
        "tasks": logic.task_rows(catalog),
        "packs": logic.packs(catalog),
        "problems": catalog.problems,
    }


def add(context: WebContext, call: Call) -> dict[str, Any]:
    spec = logic.add_script(context.catalog(), call.body)
    return {"message": f"Added '{spec.name}' ({spec.type.value})", **listing(context, call)}


def change(context: WebContext, call: Call) -> dict[str, Any]:
    changes = call.mapping("changes")
    kind = call.parsed("type", TaskType.parse)
    logic.change_script(context.catalog(), str(call.body.get("name")), kind.value, changes)
    return {"message": f"Changed '{call.body.get('name')}'", **listing(context, call)}


def remove(context: WebContext, call: Call) -> dict[str, Any]:
    kind = call.parsed("type", TaskType.parse)
    logic.remove_script(context.catalog(), str(call.body.get("name")), kind.value)
    return {"message": f"Removed '{call.body.get('name')}'", **listing(context, call)}


def pack(context: WebContext, call: Call) -> dict[str, Any]:
    enabled = bool(call.body.get("enabled"))
    logic.set_pack_enabled(context.catalog(), str(call.body.get("name")), enabled)
    word = "Enabled" if enabled else "Disabled"
    return {"message": f"{word} {call.body.get('name')}", **listing(context, call)}


routes = [
    Route("/api/scripts", api(listing), methods=["GET"]),
    Route("/api/scripts", api(add), methods=["POST"]),
    Route("/api/scripts", api(change), methods=["PUT"]),
    Route("/api/scripts/remove", api(remove), methods=["POST"]),
    Route("/api/packs", api(pack), methods=["PUT"]),
]

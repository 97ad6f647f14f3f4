"""Server Configuration: list, add, remove, start, stop; and which OsiriX the page shows."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ...client.discovery import parse_address
from ...errors import OsirixTasksError
from .. import servers as logic
from ..api import Call, api
from ..context import WebContext


def listing(context: WebContext, call: Call) -> dict[str, Any]:
    data = logic.list_servers(context.host)
    try:
        data["target"] = context.target()
    except OsirixTasksError as exc:
        data["target"] = None
        data["target_error"] = str(exc)
    data["explicit_target"] = context.explicit_target
    return data


def add(context: WebContext, call: Call) -> dict[str, Any]:
    port = logic.add_server(call.body.get("port"))
    return {"message": f"Added 127.0.0.1:{port}", **listing(context, call)}


def remove(context: WebContext, call: Call) -> dict[str, Any]:
    logic.remove_server(context.host, int(call.path["port"]))
    return {"message": f"Removed 127.0.0.1:{call.path['port']}", **listing(context, call)}


def start(context: WebContext, call: Call) -> dict[str, Any]:
    message = logic.start_server(context.host, int(call.path["port"]))
    return {"message": message, **listing(context, call)}


def stop(context: WebContext, call: Call) -> dict[str, Any]:
    message = logic.stop_server(context.host, int(call.path["port"]))
    return {"message": message, **listing(context, call)}


def set_target(context: WebContext, call: Call) -> dict[str, Any]:
    address = str(call.body.get("address") or "").strip()
    if address:
        host, port = parse_address(address)
        address = f"{host}:{port}"
    context.set_target(address or None)
    return listing(context, call)


routes = [
    Route("/api/servers", api(listing), methods=["GET"]),
    Route("/api/servers", api(add), methods=["POST"]),
    Route("/api/servers/target", api(set_target), methods=["PUT"]),
    Route("/api/servers/{port:int}", api(remove), methods=["DELETE"]),
    Route("/api/servers/{port:int}/start", api(start), methods=["POST"]),
    Route("/api/servers/{port:int}/stop", api(stop), methods=["POST"]),
]

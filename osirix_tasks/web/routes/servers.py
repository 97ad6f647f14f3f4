"""Server Configuration: list, add, remove, start, stop; and which OsiriX the page shows."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ...client.discovery import parse_address
from ...errors import OsirixTasksError
from .. import servers as logic
from ..api import Call, api
from ..page import Page


def listing(page: Page, call: Call) -> dict[str, Any]:
    """The servers of server_configs.json with their Active state, and which OsiriX the page shows."""
    data = logic.list_servers(page.host)
    try:
        data["target"] = page.address()
    except OsirixTasksError as exc:
        data["target"] = None
        data["target_error"] = str(exc)
    data["explicit_target"] = page.chosen_address
    return data


def add(page: Page, call: Call) -> dict[str, Any]:
    """Add a port (body: ``port``) to server_configs.json, inactive."""
    port = logic.add_server(call.body.get("port"))
    return {"message": f"Added 127.0.0.1:{port}", **listing(page, call)}


def remove(page: Page, call: Call) -> dict[str, Any]:
    """Remove a port from server_configs.json."""
    logic.remove_server(page.host, int(call.path["port"]))
    return {"message": f"Removed 127.0.0.1:{call.path['port']}", **listing(page, call)}


def start(page: Page, call: Call) -> dict[str, Any]:
    """Serve a port on this host."""
    message = logic.start_server(page.host, int(call.path["port"]))
    return {"message": message, **listing(page, call)}


def stop(page: Page, call: Call) -> dict[str, Any]:
    """Stop serving a port."""
    message = logic.stop_server(page.host, int(call.path["port"]))
    return {"message": message, **listing(page, call)}


def set_target(page: Page, call: Call) -> dict[str, Any]:
    """Point the page at another OsiriX (body: ``address``, PORT or 127.0.0.1:PORT; empty: this host)."""
    address = str(call.body.get("address") or "").strip()
    if address:
        host, port = parse_address(address)
        address = f"{host}:{port}"
    page.set_address(address or None)
    return listing(page, call)


routes = [
    Route("/api/servers", api(listing), methods=["GET"]),
    Route("/api/servers", api(add), methods=["POST"]),
    Route("/api/servers/target", api(set_target), methods=["PUT"]),
    Route("/api/servers/{port:int}", api(remove), methods=["DELETE"]),
    Route("/api/servers/{port:int}/start", api(start), methods=["POST"]),
    Route("/api/servers/{port:int}/stop", api(stop), methods=["POST"]),
]

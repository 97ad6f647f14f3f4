"""The page's JSON API, one module per window or view."""

from starlette.routing import BaseRoute

from . import console, database, dicom, menus, scripts, servers, viewer, volume

__all__ = ["ROUTES"]

ROUTES: list[BaseRoute] = [
    *servers.routes,
    *scripts.routes,
    *console.routes,
    *menus.routes,
    *database.routes,
    *viewer.routes,
    *volume.routes,
    *dicom.routes,
]

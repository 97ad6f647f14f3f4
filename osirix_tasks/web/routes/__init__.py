"""The page's JSON API, one module per window or view."""

from starlette.routing import BaseRoute

from . import console, database, menus, mpr, scripts, servers, viewer, vocabulary, volume

__all__ = ["ROUTES"]

ROUTES: list[BaseRoute] = [
    *servers.routes,
    *scripts.routes,
    *console.routes,
    *menus.routes,
    *database.routes,
    *viewer.routes,
    *mpr.routes,
    *vocabulary.routes,
    *volume.routes,
]

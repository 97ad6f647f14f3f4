"""The page's JSON API, one module per window or view."""

from starlette.routing import BaseRoute

from . import batches, database, dicom, menus, mpr, runs, scripts, servers, viewer, vocabulary, volume

__all__ = ["ROUTES"]

ROUTES: list[BaseRoute] = [
    *servers.routes,
    *scripts.routes,
    *runs.routes,
    *menus.routes,
    *database.routes,
    *viewer.routes,
    *mpr.routes,
    *volume.routes,
    *vocabulary.routes,
    *dicom.routes,
    *batches.routes,
]

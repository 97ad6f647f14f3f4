"""The host's face: a local web page with the plugin's three windows, the "gRPC Tasks" menus, the
database browser, the 2D viewer and the 3D window.

Served by the host on 127.0.0.1 behind a token (see :mod:`.auth`); the database, viewer and 3D
views read OsiriX through the OsiriXgrpc protocol (:mod:`osirix_tasks.client`), so they show a real OsiriX as
well as the embedded one. The front end is plain HTML, CSS and ES modules in ``static/``.
"""

from .server import WebServer, serve_page, start_web

__all__ = ["WebServer", "serve_page", "start_web"]

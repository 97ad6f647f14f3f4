"""The Starlette application: the JSON API, the static page, behind the page's guard (:mod:`.auth`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .api import Call, api
from .auth import PageGuard
from .context import WebContext
from .routes import ROUTES
from .routes.console import is_stream
from .uploads import UPLOAD_PATH

__all__ = ["create_app", "STATIC"]

STATIC = Path(__file__).parent / "static"


async def index(request: Request) -> Response:
    """The page itself (every window is a view of it)."""
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def info(request: Request) -> Response:
    """Which host serves the page and what it shows."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    context: WebContext = request.app.state.context

    def describe() -> dict[str, Any]:
        from .. import __version__

        host = context.host
        return {
            "version": __version__,
            "registry": str(context.registry),
            "ports": host.ports() if host is not None else [],
            "database": str(host.state.db.folder) if host is not None else None,
            "embedded": context.host_side.available,
        }

    return JSONResponse(await run_in_threadpool(describe))


def ticket(context: WebContext, call: Call) -> dict[str, Any]:
    """A single-use ticket to open one event stream (a browser's EventSource cannot send the token)."""
    from ..errors import BadRequest

    path = str(call.body.get("path") or "")
    if not is_stream(path):
        raise BadRequest("path", f"{path!r} is not an event stream of this page - tickets open event streams only")
    return {"ticket": context.tickets.issue(path)}


def create_app(context: WebContext, *, token: str, port: int) -> Starlette:
    """The page's application for ``context``; API requests must carry ``token`` (see :mod:`.auth`)."""
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/info", info),
            Route("/api/tickets", api(ticket), methods=["POST"]),
            Route("/favicon.ico", lambda request: Response(status_code=204)),
            *ROUTES,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(
                PageGuard,
                token=token,
                port=port,
                tickets=context.tickets,
                is_stream=is_stream,
                binary_paths=[UPLOAD_PATH],
            )
        ],
    )
    app.state.context = context
    return app

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
from .page import Page
from .routes import ROUTES
from .routes.runs import is_stream
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

    page: Page = request.app.state.page

    def describe() -> dict[str, Any]:
        from .. import __version__

        host = page.host
        return {
            "version": __version__,
            "registry": str(page.registry),
            "ports": host.ports() if host is not None else [],
            "database": str(host.state.db.folder) if host is not None else None,
            "embedded": page.own_host() is not None,
        }

    return JSONResponse(await run_in_threadpool(describe))


def ticket(page: Page, call: Call) -> dict[str, Any]:
    """A single-use ticket to open one event stream (a browser's EventSource cannot send the token)."""
    from ..errors import BadRequest

    path = str(call.body.get("path") or "")
    if not is_stream(path):
        raise BadRequest("path", f"{path!r} is not an event stream of this page - tickets open event streams only")
    return {"ticket": page.tickets.issue(path)}


def create_app(page: Page, *, token: str, port: int) -> Starlette:
    """The page's application for ``page``; API requests must carry ``token`` (see :mod:`.auth`)."""
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
                tickets=page.tickets,
                is_stream=is_stream,
                binary_paths=[UPLOAD_PATH],
            )
        ],
    )
    app.state.page = page
    return app

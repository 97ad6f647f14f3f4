"""How a route is written: a plain function of (context, call) run on a worker thread.

The function returns JSON-ready data (or a Response) and raises our errors; they become JSON
answers the page shows where they belong: 422 with ``fields`` for a form's validation problems,
409 with ``error`` for anything else a user can cause. Nothing else reaches the page as a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import OsirixTasksError
from .context import WebContext
from .scripts import FieldError

__all__ = ["Call", "api", "raw"]

log = logging.getLogger(__name__)


@dataclass
class Call:
    """One request's inputs: path parameters, query parameters and the JSON body."""

    path: dict[str, Any]
    query: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)

    def number(self, name: str, default: float | None = None) -> float:
        """A numeric query or body value; OsirixTasksError naming it when it is not a number."""
        value = self.body.get(name, self.query.get(name, default))
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise OsirixTasksError(f"{name} must be a number, got {value!r}") from None


Handler = Callable[[WebContext, Call], Any]


def api(handler: Handler) -> Callable[[Request], Any]:
    """A Starlette endpoint running ``handler`` on the thread pool, with our error answers."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        body: dict[str, Any] = {}
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            raw_body = await request.body()
            if raw_body:
                try:
                    parsed = json.loads(raw_body)
                except json.JSONDecodeError as exc:
                    return JSONResponse({"error": f"the request body is not JSON: {exc}"}, status_code=400)
                if not isinstance(parsed, dict):
                    return JSONResponse({"error": "the request body must be a JSON object"}, status_code=400)
                body = parsed
        call = Call(dict(request.path_params), dict(request.query_params), body)
        try:
            result = await run_in_threadpool(handler, request.app.state.context, call)
        except FieldError as exc:
            return JSONResponse({"error": str(exc), "fields": exc.fields}, status_code=422)
        except OsirixTasksError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except Exception as exc:  # a bug must not take the page down; it is logged and reported
            log.exception("web request %s %s failed", request.method, request.url.path)
            return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    return endpoint


def raw(data: bytes, **headers: Any) -> Response:
    """Binary pixels for a canvas, with their shape and format in ``X-...`` headers, never cached."""
    extra = {f"X-{k.replace('_', '-').title()}": str(v) for k, v in headers.items()}
    extra["Cache-Control"] = "no-store"
    return Response(data, media_type="application/octet-stream", headers=extra)

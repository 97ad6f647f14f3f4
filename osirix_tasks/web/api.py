"""How a route is written: a plain function of (page, call) run on a worker thread.

The function returns JSON-ready data (or a Response) and raises our errors; they become JSON
answers the page shows where they belong: 400 naming the ``field`` for a value that cannot be used
(read with :meth:`Call.integer` / :meth:`Call.number`), 422 with ``fields`` for a form's validation
problems, 409 with ``error`` for anything else a user can cause. Nothing else reaches the page as a
traceback. Numbers OsiriX has no value for (NaN, infinities: pixels set to NaN) travel as ``null``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import BadRequest, FieldError, OsirixTasksError
from .page import Page

__all__ = ["Call", "api", "raw", "JSONAnswer", "integer_of", "number_of"]

log = logging.getLogger(__name__)


@dataclass
class Call:
    """One request's inputs: path parameters, query parameters and the JSON body."""

    path: dict[str, Any]
    query: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str, default: Any = None) -> Any:
        """A body value, else a query value, else ``default``."""
        if name in self.body and self.body[name] is not None:
            return self.body[name]
        return self.query.get(name, default)

    def number(self, name: str, default: float | None = None) -> float:
        """A finite number from the body or the query; BadRequest naming it otherwise."""
        return number_of(name, self.value(name, default))

    def integer(self, name: str, default: int | None = None, *, low: int | None = None, high: int | None = None) -> int:
        """A whole number from the body or the query, within ``low``..``high``; BadRequest naming it otherwise."""
        return integer_of(name, self.value(name, default), low=low, high=high)

    def maybe_integer(self, name: str, *, low: int | None = None) -> int | None:
        """Like :meth:`integer`, None when the value is absent."""
        value = self.value(name)
        return None if value is None else integer_of(name, value, low=low)

    def maybe_number(self, name: str) -> float | None:
        """Like :meth:`number`, None when the value is absent."""
        value = self.value(name)
        return None if value is None else number_of(name, value)

    def parsed(self, name: str, parse: Callable[[Any], Any]) -> Any:
        """A body or query value through ``parse`` (a model's parser); its ValueError becomes BadRequest."""
        try:
            return parse(self.value(name))
        except ValueError as exc:
            raise BadRequest(name, str(exc)) from None

    def strings(self, name: str) -> list[str]:
        """A list of strings from the body (absent: empty); BadRequest naming it otherwise."""
        value = self.body.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise BadRequest(name, f"must be a list of strings, got {value!r}")
        return [str(v) for v in value]

    def mapping(self, name: str) -> dict[str, Any]:
        """A JSON object from the body (absent: empty); BadRequest naming it otherwise."""
        value = self.body.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise BadRequest(name, f"must be an object of field names and values, got {value!r}")
        return value

    def numbers(self, name: str, count: int | None = None) -> list[float] | None:
        """A list of finite numbers from the body (``count`` of them when given); None when absent."""
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or (count is not None and len(value) != count):
            raise BadRequest(name, f"must be a list of {count or 'some'} numbers, got {value!r}")
        return [number_of(name, v) for v in value]


def number_of(name: str, value: Any) -> float:
    """``value`` as a finite float; BadRequest naming ``name`` otherwise."""
    if isinstance(value, bool) or value is None:
        raise BadRequest(name, f"must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRequest(name, f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise BadRequest(name, f"must be a finite number, got {value!r}")
    return number


#: What OsiriXgrpc's int32 fields hold (the bounds of a whole number nobody narrowed further).
INT32 = (-(2**31), 2**31 - 1)


def integer_of(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int within ``low``..``high`` (default: an int32); BadRequest naming ``name`` otherwise."""
    low = INT32[0] if low is None else low
    high = INT32[1] if high is None else high
    number = number_of(name, value)
    if number != int(number):
        raise BadRequest(name, f"must be a whole number, got {value!r}")
    whole = int(number)
    if not low <= whole <= high:
        raise BadRequest(name, f"must be from {low} to {high}, got {value!r}")
    return whole


def _finite(data: Any) -> Any:
    """``data`` with NaN and infinities replaced by None (JSON has no such numbers)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


class JSONAnswer(JSONResponse):
    """A JSON answer that sends non-finite numbers as null instead of failing."""

    def render(self, content: Any) -> bytes:
        """The body: compact UTF-8 JSON; NaN and infinities become null."""
        try:
            text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except ValueError:
            text = json.dumps(_finite(content), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8")


Handler = Callable[[Page, Call], Any]


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
            result = await run_in_threadpool(handler, request.app.state.page, call)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
        except FieldError as exc:
            return JSONResponse({"error": str(exc), "fields": exc.fields}, status_code=422)
        except OsirixTasksError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except Exception as exc:  # a bug must not take the page down; it is logged and reported
            log.exception("web request %s %s failed", request.method, request.url.path)
            return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)
        if isinstance(result, Response):
            return result
        return JSONAnswer(result)

    return endpoint


def raw(data: bytes | memoryview, **headers: Any) -> Response:
    """Binary pixels for a canvas, with their shape and format in ``X-...`` headers, never cached."""
    extra = {f"X-{k.replace('_', '-').title()}": str(v) for k, v in headers.items()}
    extra["Cache-Control"] = "no-store"
    return Response(data, media_type="application/octet-stream", headers=extra)

"""The database window: studies and series, thumbnails, selection, import (and its outcome), open."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..api import Call, api, raw
from ..context import WebContext
from ..uploads import UPLOAD_PATH, UploadTooLarge

__all__ = ["routes", "UPLOAD_PATH"]


def listing(context: WebContext, call: Call) -> dict[str, Any]:
    return {
        "studies": context.reader.studies(),
        "can_select": context.host_side.available,
        "target": context.target(),
    }


def thumbnail(context: WebContext, call: Call) -> Response:
    rows, columns, data = context.reader.thumbnail(call.path["series_uid"])
    return raw(data, rows=rows, columns=columns, format="rgba8")


def select(context: WebContext, call: Call) -> dict[str, Any]:
    studies, series = call.strings("studies"), call.strings("series")
    return {"message": context.host_side.select(studies, series)}


def import_paths(context: WebContext, call: Call) -> dict[str, Any]:
    """Start importing files or folders; ``import`` is the id to ask how it went (None: not known)."""
    paths = [p.strip() for p in call.strings("paths") if p.strip()]
    return context.imports.start(context, paths)


def import_outcome(context: WebContext, call: Call) -> dict[str, Any]:
    """How an import went: what was imported, what was already there, what was skipped and why."""
    return context.imports.outcome(call.path["key"])


def _refused(status: int, message: str) -> Response:
    # the body may still be on its way: the connection is closed rather than read to its end
    return JSONResponse({"error": message}, status_code=status, headers={"Connection": "close"})


async def upload(request: Request) -> Response:
    """One file sent by the page's file picker, streamed to an upload folder until imported."""
    context: WebContext = request.app.state.context
    uploads = context.imports.uploads
    name = request.query_params.get("name", "") or "upload.dcm"
    batch = request.query_params.get("batch", "")
    if not batch.isalnum() or len(batch) > 64:
        return JSONResponse({"error": "batch: must be 1 to 64 letters and digits", "field": "batch"}, status_code=400)
    announced = request.headers.get("content-length")
    if announced is not None and (not announced.isdigit() or int(announced) > uploads.limit):
        return _refused(413, f"{name} is larger than {uploads.limit} bytes - import it by its path instead")
    try:
        path = await uploads.receive(batch, name, request.stream())
    except UploadTooLarge as exc:
        return _refused(413, str(exc))
    except OSError as exc:
        return _refused(507, f"could not store {name} for import ({exc.strerror or exc}) - free some disk space")
    return JSONResponse({"path": str(path)})


def open_series(context: WebContext, call: Call) -> dict[str, Any]:
    return {"viewer": context.reader.open_series(call.path["series_uid"])}


routes = [
    Route("/api/database", api(listing), methods=["GET"]),
    Route("/api/database/select", api(select), methods=["POST"]),
    Route("/api/database/import", api(import_paths), methods=["POST"]),
    Route("/api/database/imports/{key}", api(import_outcome), methods=["GET"]),
    Route(UPLOAD_PATH, upload, methods=["PUT"]),
    Route("/api/series/{series_uid}/thumbnail", api(thumbnail), methods=["GET"]),
    Route("/api/series/{series_uid}/open", api(open_series), methods=["POST"]),
]

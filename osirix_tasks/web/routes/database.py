"""The database window: studies and series, thumbnails, selection, import, open in a 2D viewer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..._support.paths import user_data_dir
from ...errors import OsirixTasksError
from ..api import Call, api, raw
from ..context import WebContext

#: Largest file accepted by an upload (a DICOM file is far smaller).
MAX_UPLOAD_BYTES = 1 << 30


def listing(context: WebContext, call: Call) -> dict[str, Any]:
    return {
        "studies": context.reader.studies(),
        "can_select": context.host_side.available,
        "target": context.target(),
    }


def thumbnail(context: WebContext, call: Call) -> Response:
    rows, columns, data = context.reader.thumbnail(call.path["series_uid"])
    return raw(data, rows=rows, columns=columns, format="gray8")


def select(context: WebContext, call: Call) -> dict[str, Any]:
    studies = [str(s) for s in call.body.get("studies") or []]
    series = [str(s) for s in call.body.get("series") or []]
    return {"message": context.host_side.select(studies, series)}


def import_paths(context: WebContext, call: Call) -> dict[str, Any]:
    paths = [str(p).strip() for p in call.body.get("paths") or [] if str(p).strip()]
    if not paths:
        raise OsirixTasksError("give at least one file or folder to import")
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise OsirixTasksError(f"{missing[0]} does not exist - give the path of a DICOM file or folder")
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(str(p) for p in sorted(Path(path).rglob("*")) if p.is_file())
        else:
            files.append(path)
    context.reader.import_files(files)
    return {"message": f"Importing {len(files)} file(s); they appear in the list when OsiriX has read them"}


async def upload(request: Request) -> Response:
    """One file sent by the page's file picker, kept in an upload folder until imported."""
    name = os.path.basename(request.query_params.get("name", "")) or "upload.dcm"
    batch = request.query_params.get("batch", "")
    if not batch.isalnum():
        return JSONResponse({"error": "batch must be letters and digits"}, status_code=400)
    data = await request.body()
    if len(data) > MAX_UPLOAD_BYTES:
        return JSONResponse({"error": f"{name} is larger than {MAX_UPLOAD_BYTES} bytes"}, status_code=413)

    def save() -> str:
        folder = user_data_dir() / "uploads" / batch
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, path = tempfile.mkstemp(prefix="", suffix="-" + name, dir=folder)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        return path

    return JSONResponse({"path": await run_in_threadpool(save)})


def open_series(context: WebContext, call: Call) -> dict[str, Any]:
    return {"viewer": context.reader.open_series(call.path["series_uid"])}


routes = [
    Route("/api/database", api(listing), methods=["GET"]),
    Route("/api/database/select", api(select), methods=["POST"]),
    Route("/api/database/import", api(import_paths), methods=["POST"]),
    Route("/api/database/upload", upload, methods=["PUT"]),
    Route("/api/series/{series_uid}/thumbnail", api(thumbnail), methods=["GET"]),
    Route("/api/series/{series_uid}/open", api(open_series), methods=["POST"]),
]

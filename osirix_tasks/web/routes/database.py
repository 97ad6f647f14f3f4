"""The database window: studies and series, thumbnails, selection, import, open in a 2D viewer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from osirixgrpc import types_pb2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..._support.paths import user_data_dir
from ...client import viewer_tools
from ...client.db_listing import SeriesInfo, StudyInfo, browser_listing
from ...client.viewer_tools import import_files
from ...errors import OsirixTasksError
from ...host.control_protocol import Select
from ..api import Call, api, raw
from ..page import Page
from ..thumbnails import series_thumbnail

#: Largest file accepted by an upload (a DICOM file is far smaller).
MAX_UPLOAD_BYTES = 1 << 30


def _series_json(series: SeriesInfo) -> dict[str, Any]:
    return {
        "uid": series.uid,
        "series_uid": series.series_instance_uid,
        "description": series.description,
        "modality": series.modality,
        "date": series.date,
        "images": series.images,
        "selected": series.selected,
    }


def _study_json(study: StudyInfo) -> dict[str, Any]:
    return {
        "uid": study.uid,
        "study_uid": study.study_instance_uid,
        "patient": study.patient_name,
        "patient_id": study.patient_id,
        "description": study.description,
        "date": study.date,
        "modality": study.modalities,
        "images": study.images,
        "selected": study.selected,
        "series": [_series_json(s) for s in study.series_list],
    }


def listing(page: Page, call: Call) -> dict[str, Any]:
    studies = browser_listing(page.connection())
    return {
        "studies": [_study_json(s) for s in studies],
        "can_select": page.own_host() is not None,
        "target": page.address(),
    }


def thumbnail(page: Page, call: Call) -> Response:
    rows, columns, data = series_thumbnail(page.connection(), call.path["series_uid"])
    return raw(data, rows=rows, columns=columns, format="gray8")


def select(page: Page, call: Call) -> dict[str, Any]:
    studies = [str(s) for s in call.body.get("studies") or []]
    series = [str(s) for s in call.body.get("series") or []]
    return {"message": page.hand(Select(studies=studies, series=series), "Selecting in the database").message}


def import_paths(page: Page, call: Call) -> dict[str, Any]:
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
    import_files(page.connection(), files)
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


def open_series(page: Page, call: Call) -> dict[str, Any]:
    series = types_pb2.DicomSeries(osirixrpc_uid=call.path["series_uid"])
    return {"viewer": viewer_tools.open_series(page.connection(), series).osirixrpc_uid}


routes = [
    Route("/api/database", api(listing), methods=["GET"]),
    Route("/api/database/select", api(select), methods=["POST"]),
    Route("/api/database/import", api(import_paths), methods=["POST"]),
    Route("/api/database/upload", upload, methods=["PUT"]),
    Route("/api/series/{series_uid}/thumbnail", api(thumbnail), methods=["GET"]),
    Route("/api/series/{series_uid}/open", api(open_series), methods=["POST"]),
]

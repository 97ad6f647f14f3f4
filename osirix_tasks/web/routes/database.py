"""The database window: studies and series, thumbnails, selection, import (and its outcome), open."""

from __future__ import annotations

from typing import Any

from osirixgrpc import types_pb2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..._support.text import plural
from ...client import viewer_tools
from ...client.db_listing import SeriesInfo, StudyInfo, browser_listing
from ...errors import BadRequest, UploadTooLarge
from ...host.control_protocol import Delete, Select
from ..api import Call, api, raw
from ..page import Page
from ..study_files import export_items, export_series, patient_facts
from ..thumbnails import series_thumbnail
from ..uploads import UPLOAD_PATH

__all__ = ["routes", "UPLOAD_PATH"]


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


def _study_json(study: StudyInfo, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **extra,
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
    """The database window's studies and series, with OsiriX's columns, and which OsiriX it shows."""
    connection = page.connection()
    studies = browser_listing(connection)
    extras = patient_facts(connection, studies, page.study_facts)
    return {
        "studies": [_study_json(s, extras[s.uid]) for s in studies],
        "can_select": page.own_host() is not None,
        "target": page.address(),
    }


def thumbnail(page: Page, call: Call) -> Response:
    """A series' thumbnail: its middle image as RGBA pixels."""
    rows, columns, data = series_thumbnail(page.connection(), call.path["series_uid"])
    return raw(data, rows=rows, columns=columns, format="rgba8")


def select(page: Page, call: Call) -> dict[str, Any]:
    """Select studies and series in the database window (the user's hands: a control request)."""
    studies, series = call.strings("studies"), call.strings("series")
    return {"message": page.hand(Select(studies=studies, series=series), "Selecting in the database").message}


def delete(page: Page, call: Call) -> dict[str, Any]:
    """Delete studies and series (StudyInstanceUID / SeriesInstanceUID, as ``select`` takes them) from
    the embedded OsiriX's database; the page has asked the user to confirm. Another OsiriX refuses: the
    protocol cannot delete, its user does it in its own window."""
    studies, series = call.strings("studies"), call.strings("series")
    return {"message": page.hand(Delete(studies=studies, series=series), "Deleting from the database").message}


def export(page: Page, call: Call) -> dict[str, Any]:
    """Copy the files of studies and series (the listing's ``uid``s) into ``folder`` on this machine,
    one sub-folder per patient, study and series (see :func:`..study_files.export_series`)."""
    folder = call.body.get("folder")
    if not isinstance(folder, str):
        raise BadRequest("folder", f"must be a folder's path, got {folder!r}")
    items = export_items(page.connection(), call.strings("studies"), call.strings("series"))
    root, count = export_series(items, folder)
    return {"message": f"exported {plural(count, 'file')} of {len(items)} series into {root}", "files": count}


def import_paths(page: Page, call: Call) -> dict[str, Any]:
    """Start importing files or folders; ``import`` is the id to ask how it went (None: not known)."""
    paths = [p.strip() for p in call.strings("paths") if p.strip()]
    return page.imports.start(page, paths)


def import_outcome(page: Page, call: Call) -> dict[str, Any]:
    """How an import went: what was imported, what was already there, what was skipped and why."""
    return page.imports.outcome(page, call.path["key"])


def _refused(status: int, message: str) -> Response:
    # the body may still be on its way: the connection is closed rather than read to its end
    return JSONResponse({"error": message}, status_code=status, headers={"Connection": "close"})


async def upload(request: Request) -> Response:
    """One file sent by the page's file picker, streamed to an upload folder until imported."""
    page: Page = request.app.state.page
    uploads = page.imports.uploads
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


def open_series(page: Page, call: Call) -> dict[str, Any]:
    """Open a series in a new 2D viewer; its uid."""
    series = types_pb2.DicomSeries(osirixrpc_uid=call.path["series_uid"])
    return {"viewer": viewer_tools.open_series(page.connection(), series).osirixrpc_uid}


routes = [
    Route("/api/database", api(listing), methods=["GET"]),
    Route("/api/database/select", api(select), methods=["POST"]),
    Route("/api/database/delete", api(delete), methods=["POST"]),
    Route("/api/database/export", api(export), methods=["POST"]),
    Route("/api/database/import", api(import_paths), methods=["POST"]),
    Route("/api/database/imports/{key}", api(import_outcome), methods=["GET"]),
    Route(UPLOAD_PATH, upload, methods=["PUT"]),
    Route("/api/series/{series_uid}/thumbnail", api(thumbnail), methods=["GET"]),
    Route("/api/series/{series_uid}/open", api(open_series), methods=["POST"]),
]

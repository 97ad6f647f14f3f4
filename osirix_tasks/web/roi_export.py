"""The page's export of a viewer's ROIs (``GET /api/viewers/{uid}/rois/export?format=sr|seg|csv|json``):
the files of ``roi export`` as a download (a zip when an SR comes with the SEG of its brush ROIs)."""

from __future__ import annotations

import io
import zipfile

from osirixgrpc import types_pb2
from starlette.responses import Response

from ..client.roi_files import FORMATS, export_files
from ..errors import BadRequest
from .api import Call
from .page import Page

__all__ = ["export_rois"]

_MEDIA = {".dcm": "application/dicom", ".csv": "text/csv", ".json": "application/json"}


def export_rois(page: Page, call: Call) -> Response:
    """The viewer's ROIs (its displayed frame) in the asked format, as an attachment (400 naming
    ``format`` for a format we do not export)."""
    fmt = call.query.get("format", "")
    if fmt not in FORMATS:
        raise BadRequest("format", f"{fmt!r} is not one we export - use one of {', '.join(FORMATS)}")
    connection = page.connection()
    viewer = types_pb2.ViewerController(osirixrpc_uid=call.path["uid"])
    movie_idx = connection.call("ViewerControllerMovieIdx", viewer).movie_idx
    files = export_files(connection, viewer, fmt, stem="rois", movie_idx=movie_idx)
    if len(files) == 1:
        [(name, data)] = files.items()
        media = _MEDIA.get("." + name.rsplit(".", 1)[-1], "application/octet-stream")
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for inner, content in files.items():
                archive.writestr(inner, content)
        name, data, media = "rois.zip", buffer.getvalue(), "application/zip"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(data, media_type=media, headers=headers)

"""The 2D viewer: display state, planes as raw pixels, ROIs (list, draw, select, delete)."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from starlette.responses import Response
from starlette.routing import Route

from ...client import roi_edit
from ...errors import BadRequest
from ..api import Call, api, integer_of, number_of, raw
from ..context import WebContext
from ..osirix import ROI_TYPE_NAMES

#: ROI types the page draws with the mouse, and how each is sent to OsiriX.
DRAWN = {
    11: "points",
    15: "points",
    9: "rect",
    6: "rect",
    19: "rect",
    5: "points",
    14: "points",
    12: "points",
    13: "rect",
}

#: OsiriX's tText: drawn at its rect, which only the embedded host can tell (see HostSide.text_anchor).
TEXT_ROI_TYPE = 13


def listing(context: WebContext, call: Call) -> dict[str, Any]:
    return context.reader.viewers()


def detail(context: WebContext, call: Call) -> dict[str, Any]:
    return context.reader.viewer(call.path["uid"])


def change(context: WebContext, call: Call) -> dict[str, Any]:
    wl, ww = call.maybe_number("wl"), call.maybe_number("ww")
    if ww is not None and ww <= 0:
        raise BadRequest("ww", f"the window width must be above 0, got {ww}")
    context.reader.set_viewer(
        call.path["uid"],
        idx=call.maybe_integer("idx", low=0),
        movie_idx=call.maybe_integer("movie_idx", low=0),
        wl=wl,
        ww=ww,
    )
    return {"ok": True}


def front(context: WebContext, call: Call) -> dict[str, Any]:
    context.host_side.bring_to_front(call.path["uid"], "ViewerController")
    return {"ok": True}


def close(context: WebContext, call: Call) -> dict[str, Any]:
    context.reader.close_viewer(call.path["uid"])
    return {"ok": True}


def pixels(context: WebContext, call: Call) -> Response:
    """A plane's values: 16-bit integers when they all are (half the bytes), else float32; or ARGB bytes."""
    image = context.reader.pixels(call.path["pix_uid"])
    rows, columns = image.shape[0], image.shape[1]
    if image.ndim == 3:
        return raw(np.ascontiguousarray(image).tobytes(), rows=rows, columns=columns, format="argb8")
    data, kind = compact(image)
    return raw(data, rows=rows, columns=columns, format=kind)


def compact(image: np.ndarray) -> tuple[bytes, str]:
    """The smallest exact little-endian encoding of a float32 plane and its name (the page windows it)."""
    low, high = float(image.min()), float(image.max())
    for kind, name in ((np.uint16, "uint16"), (np.int16, "int16")):
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            narrow = image.astype(kind)
            if np.array_equal(narrow, image):
                return narrow.astype(np.dtype(kind).newbyteorder("<"), copy=False).tobytes(), name
    return np.ascontiguousarray(image, dtype="<f4").tobytes(), "float32"


def digest(context: WebContext, call: Call) -> dict[str, Any]:
    return {"digest": context.reader.pixel_digest(call.path["pix_uid"])}


def rois(context: WebContext, call: Call) -> dict[str, Any]:
    frame, index = call.integer("frame", 0, low=0), call.integer("slice", 0, low=0)
    listed = context.reader.rois(call.path["uid"], frame, index)
    for roi in listed:
        if roi["itype"] == TEXT_ROI_TYPE and not roi["points"]:
            anchor = context.host_side.text_anchor(roi["uid"])
            roi["points"] = [anchor] if anchor is not None else []
    return {"rois": listed, "types": ROI_TYPE_NAMES}


def _points(call: Call) -> list[list[float]]:
    value = call.body.get("points")
    if not isinstance(value, list) or not value or not all(isinstance(p, list) and len(p) == 2 for p in value):
        raise BadRequest("points", f"must be a list of [x, y] pairs, got {value!r}")
    return [[number_of("points", x), number_of("points", y)] for x, y in value]


def _color(call: Call) -> list[int] | None:
    value = call.body.get("color")
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise BadRequest("color", f"must be [red, green, blue], got {value!r}")
    return [integer_of("color", v, low=0, high=255) for v in value]


def new_roi(context: WebContext, call: Call) -> dict[str, Any]:
    itype = call.integer("itype", 0)
    if itype not in DRAWN:
        raise BadRequest("itype", f"ROI type {itype} cannot be drawn here - use one of {sorted(DRAWN)}")
    shape = DRAWN[itype]
    rect = call.numbers("rect", 4) if shape == "rect" else None
    if shape == "rect" and rect is None:
        raise BadRequest("rect", "give the ROI's rectangle as [x, y, width, height]")
    roi = context.reader.new_roi(
        call.path["uid"],
        itype=itype,
        movie_idx=call.integer("frame", 0, low=0),
        idx=call.integer("slice", 0, low=0),
        name=str(call.body.get("name") or "Unnamed"),
        points=_points(call) if shape == "points" else None,
        rect=rect,
        color=_color(call),
    )
    if context.host_side.available:  # a freshly drawn ROI is the selected one, as in OsiriX
        context.host_side.select_rois(call.path["uid"], [roi["uid"]])
        roi["selected"] = True
    return {"roi": roi}


def select_rois(context: WebContext, call: Call) -> dict[str, Any]:
    context.host_side.select_rois(call.path["uid"], call.strings("uids"))
    return {"ok": True}


def edit_roi(context: WebContext, call: Call) -> dict[str, Any]:
    """Change a drawn ROI through the protocol, so tasks see what the page shows: ``move`` [dx, dy],
    ``points`` [[x, y], ...], ``rect`` (with ``viewer``, ``frame``, ``slice``: drawn anew), ``name``,
    ``color`` [r, g, b]. Answers the ROI as the host now has it (its uid changes when drawn anew)."""
    body = call.body
    uid = call.path["roi_uid"]
    viewer = body.get("viewer")
    if viewer is not None and not isinstance(viewer, str):
        raise BadRequest("viewer", f"must be a viewer's uid, got {viewer!r}")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise BadRequest("name", f"must be text, got {name!r}")
    rect, move = call.numbers("rect", 4), call.numbers("move", 2)
    points = _points(call) if body.get("points") is not None else None
    color = _color(call)
    connection = context.reader.connection
    if rect is not None:
        if not viewer:
            raise BadRequest("viewer", "the viewer of the ROI is needed to draw it in a new rectangle")
        frame, index = call.integer("frame", 0, low=0), call.integer("slice", 0, low=0)
        uid = roi_edit.redraw_in_rect(connection, viewer, uid, frame=frame, index=index, rect=rect).osirixrpc_uid
    if move is not None:
        roi_edit.move(connection, uid, move[0], move[1])
    if points is not None:
        roi_edit.set_points(connection, uid, points)
    if name is not None:
        roi_edit.rename(connection, uid, name)
    if color is not None:
        roi_edit.recolour(connection, uid, color)
    roi = context.reader.roi(roi_edit.roi_ref(uid))
    if viewer and context.host_side.available and body.get("select", True):
        context.host_side.select_rois(viewer, [uid])
        roi["selected"] = True
    return {"roi": roi}


def version(context: WebContext, call: Call) -> dict[str, Any]:
    """What the page polls to know that a viewer changed (pixels, ROIs, WL/WW, position).

    TEMPORARY (for the lead to reconcile): the ``rooms`` branch adds a per-viewer change counter to the
    viewer state; until it lands this answers a digest of the displayed plane's pixels and ROIs. The page
    only compares the value with the last one, so the counter replaces this function alone."""
    uid, frame, index = call.path["uid"], call.integer("frame", 0, low=0), call.integer("slice", 0, low=0)
    reader = context.reader
    digest = hashlib.blake2b(digest_size=8)
    state = reader.viewer_state(uid)
    digest.update(repr(state).encode())
    pix = reader.frame_pix(uid, frame) if frame >= 0 else []
    if 0 <= index < len(pix):
        digest.update(reader.pixel_digest(pix[index]).encode())
    for roi in reader.rois(uid, frame, index):
        digest.update(repr((roi["uid"], roi["name"], roi["color"], roi["points"], roi["selected"])).encode())
    return {"version": digest.hexdigest(), "state": state}


def changes(context: WebContext, call: Call) -> dict[str, Any]:
    """What changed after change number ``since``.

    TEMPORARY (for the lead to reconcile): the ``rooms`` branch answers this from the emulator's change
    counters (``{"supported": true, "now", "windows", "viewers": {uid: {"version", "pixels", "rois",
    "display"}}}``, which static/viewer/changes.js reads). Until it lands there are no counters: the
    page is told so and asks each shown viewer's :func:`version` instead, as for a real OsiriX."""
    call.integer("since", 0, low=0)
    return {"supported": False}


def delete_roi(context: WebContext, call: Call) -> dict[str, Any]:
    context.reader.delete_roi(call.path["roi_uid"])
    return {"ok": True}


routes = [
    Route("/api/viewers", api(listing), methods=["GET"]),
    Route("/api/viewers/{uid}", api(detail), methods=["GET"]),
    Route("/api/viewers/{uid}", api(change), methods=["PUT"]),
    Route("/api/viewers/{uid}", api(close), methods=["DELETE"]),
    Route("/api/viewers/{uid}/front", api(front), methods=["POST"]),
    Route("/api/viewers/{uid}/rois", api(rois), methods=["GET"]),
    Route("/api/viewers/{uid}/rois", api(new_roi), methods=["POST"]),
    Route("/api/viewers/{uid}/select-rois", api(select_rois), methods=["POST"]),
    Route("/api/rois/{roi_uid}", api(delete_roi), methods=["DELETE"]),
    Route("/api/rois/{roi_uid}", api(edit_roi), methods=["PUT"]),
    Route("/api/viewers/{uid}/version", api(version), methods=["GET"]),
    Route("/api/changes", api(changes), methods=["GET"]),
    Route("/api/pix/{pix_uid}", api(pixels), methods=["GET"]),
    Route("/api/pix/{pix_uid}/digest", api(digest), methods=["GET"]),
]

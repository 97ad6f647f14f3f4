"""The 2D viewer: display state, planes as raw pixels, ROIs (list, draw, select, delete)."""

from __future__ import annotations

from typing import Any

import numpy as np
from starlette.responses import Response
from starlette.routing import Route

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
    Route("/api/pix/{pix_uid}", api(pixels), methods=["GET"]),
    Route("/api/pix/{pix_uid}/digest", api(digest), methods=["GET"]),
]

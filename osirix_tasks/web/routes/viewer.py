"""The 2D viewer: display state, planes as raw pixels, ROIs (list, draw, select, delete), and what
changed since the page last looked (``GET /api/changes``)."""

from __future__ import annotations

import hashlib
from typing import Any

from osirixgrpc import types_pb2
from starlette.responses import Response
from starlette.routing import Route

from ...client import roi_edit, windows
from ...client.roi_listing import RoiInfo, list_rois
from ...client.viewer_tools import delete_roi
from ...client.viewer_tools import new_roi as draw_roi
from ...errors import BadRequest, OsirixError, OsirixUnreachable
from ...host.control_protocol import BringToFront, SelectRois, TextAnchors, WhatChanged
from ...vocabulary import ROI_TYPES, RoiCode, roi_type
from ..api import Call, api, integer_of, number_of
from ..page import Page
from ..planes import MAX_PLANES, plane_response, planes_response
from ..roi_export import export_rois


def listing(page: Page, call: Call) -> dict[str, Any]:
    """The open 2D viewers and which is frontmost."""
    shown, front = windows.viewers(page.connection())
    return {"viewers": shown, "frontmost": front}


def changes(page: Page, call: Call) -> dict[str, Any]:
    """What changed after change number ``since`` (see :class:`WhatChanged`); ``supported`` is false
    for a real OsiriX (no change counters: read it again instead)."""
    host = page.own_host()
    if host is None:
        return {"supported": False}
    since = call.integer("since", 0, low=0, high=2**63 - 1)
    return {"supported": True, **page.hand(WhatChanged(since=since), "Watching changes").data}


def _versions(page: Page, uid: str) -> dict[str, int] | None:
    """A viewer's change versions (None for a real OsiriX)."""
    if page.own_host() is None:
        return None
    reply = page.hand(WhatChanged(since=0), "Watching changes")
    return dict(reply.data["viewers"].get(uid) or {"version": 0, "pixels": 0, "rois": 0, "display": 0})


def detail(page: Page, call: Call) -> dict[str, Any]:
    """A viewer's display state, with ``version`` (the number of its last change; 0: none, or a real
    OsiriX) and ``versions`` by aspect (pixels, rois, display)."""
    data = windows.viewer_state(page.connection(), call.path["uid"]).to_json()
    versions = _versions(page, call.path["uid"])
    data["version"] = versions["version"] if versions else 0
    data["versions"] = versions
    return data


def change(page: Page, call: Call) -> dict[str, Any]:
    """Change a viewer's display: image, movie frame, WL/WW (through OsiriXgrpc)."""
    wl, ww = call.maybe_number("wl"), call.maybe_number("ww")
    if ww is not None and ww <= 0:
        raise BadRequest("ww", f"the window width must be above 0, got {ww}")
    windows.set_display(
        page.connection(),
        call.path["uid"],
        idx=call.maybe_integer("idx", low=0),
        movie_idx=call.maybe_integer("movie_idx", low=0),
        wl=wl,
        ww=ww,
    )
    return {"ok": True}


def front(page: Page, call: Call) -> dict[str, Any]:
    """Bring the viewer to the front (in the embedded OsiriX; a real one's user clicks its window)."""
    if page.own_host() is not None:
        page.hand(BringToFront(uid=call.path["uid"], kind="ViewerController"), "Bringing a viewer to the front")
    return {"ok": True}


def close(page: Page, call: Call) -> dict[str, Any]:
    """Close a 2D viewer."""
    windows.close_viewer(page.connection(), call.path["uid"])
    return {"ok": True}


def pixels(page: Page, call: Call) -> Response:
    """A plane's values: 16-bit integers when they all are (half the bytes), else float32; or ARGB bytes."""
    return plane_response(page.connection().pixels(types_pb2.DCMPix(osirixrpc_uid=call.path["pix_uid"])))


def many_pixels(page: Page, call: Call) -> Response:
    """Several planes at once (``uids``: pix uids separated by commas, at most MAX_PLANES): the page's
    prefetch asks for a few together, one round trip instead of one each. A plane that cannot be read
    is named with OsiriX's reason; the others still come."""
    uids = [uid for uid in str(call.query.get("uids", "")).split(",") if uid]
    if not uids or len(uids) > MAX_PLANES:
        raise BadRequest("uids", f"give from 1 to {MAX_PLANES} pix uids separated by commas, got {len(uids)}")
    connection = page.connection()
    planes: list[tuple[str, Any]] = []
    for uid in uids:
        try:
            planes.append((uid, connection.pixels(types_pb2.DCMPix(osirixrpc_uid=uid))))
        except OsirixUnreachable:
            raise
        except OsirixError as exc:
            planes.append((uid, str(exc)))
    return planes_response(planes)


def digest(page: Page, call: Call) -> dict[str, Any]:
    """A token that changes when the plane's pixels may have: the embedded OsiriX's pixel change
    counter (no pixels read), else a hash of the plane (a real OsiriX has no counters). Kept for the
    page's polling until it asks ``/api/changes``."""
    if page.own_host() is not None:
        return {"digest": f"v{page.hand(WhatChanged(since=0), 'Watching changes').data['pixels']}"}
    image = page.connection().pixels(types_pb2.DCMPix(osirixrpc_uid=call.path["pix_uid"]))
    return {"digest": hashlib.blake2b(image.tobytes(), digest_size=8).hexdigest()}


def _roi_json(roi: RoiInfo) -> dict[str, Any]:
    kind = roi_type(roi.itype)
    closed = kind is not None and kind.closed
    return {
        "uid": roi.uid,
        "itype": roi.itype,
        "kind": roi.type,
        "name": roi.name,
        "color": list(roi.color or (0, 0, 0)),
        "opacity": roi.opacity,
        "thickness": roi.thickness,
        "points": roi.points,
        "selected": roi.selected,
        "area": roi.area_cm2 if closed else None,
        "mean": roi.mean,
        "std": roi.std,
        "min": roi.min,
        "max": roi.max,
        "total": roi.total,
        "mask": roi.mask,
    }


def rois(page: Page, call: Call) -> dict[str, Any]:
    """The ROIs of one plane with what the viewer draws and measures (one listing, its calls sent together)."""
    frame, index = call.integer("frame", 0, low=0), call.integer("slice", 0, low=0)
    viewer = types_pb2.ViewerController(osirixrpc_uid=call.path["uid"])
    listed = [_roi_json(r) for r in list_rois(page.connection(), viewer, frame=frame, plane=index, drawing=True)]
    texts = [r["uid"] for r in listed if r["itype"] == RoiCode.TEXT and not r["points"]]
    if texts and page.own_host() is not None:  # OsiriX's -points of a text ROI is empty: the host knows its place
        anchors = page.hand(TextAnchors(uids=texts), "Placing text").data
        for roi in listed:
            if roi["uid"] in anchors:
                roi["points"] = [anchors[roi["uid"]]]
    return {"rois": listed, "types": {int(code): t.label for code, t in ROI_TYPES.items()}}


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


def new_roi(page: Page, call: Call) -> dict[str, Any]:
    """Draw an ROI of a drawable type on a plane; in the embedded OsiriX it becomes the selected one, as in OsiriX."""
    itype = call.integer("itype", 0)
    kind = roi_type(itype)
    if kind is None or not kind.drawable:
        drawable = sorted(int(code) for code, t in ROI_TYPES.items() if t.drawable)
        raise BadRequest("itype", f"ROI type {itype} cannot be drawn here - use one of {drawable}")
    rect = call.numbers("rect", 4) if kind.shape == "rectangle" else None
    if kind.shape == "rectangle" and rect is None:
        raise BadRequest("rect", "give the ROI's rectangle as [x, y, width, height]")
    color = _color(call)
    viewer = types_pb2.ViewerController(osirixrpc_uid=call.path["uid"])
    ref = draw_roi(
        page.connection(),
        viewer,
        itype,
        name=str(call.body.get("name") or "Unnamed"),
        slice=call.integer("slice", 0, low=0),
        frame=call.integer("frame", 0, low=0),
        points=_points(call) if kind.shape == "points" else (),
        rect=rect,
        **({"color": color} if color else {}),
    )
    selected = page.own_host() is not None
    if selected:
        page.hand(SelectRois(viewer=call.path["uid"], uids=[ref.osirixrpc_uid]), "Selecting ROIs")
    return {"roi": {"uid": ref.osirixrpc_uid, "itype": itype, "selected": selected}}


def select_rois(page: Page, call: Call) -> dict[str, Any]:
    """Select ROIs of a viewer by uid (the user's hands: a control request)."""
    page.hand(SelectRois(viewer=call.path["uid"], uids=call.strings("uids")), "Selecting ROIs")
    return {"ok": True}


def edit_roi(page: Page, call: Call) -> dict[str, Any]:
    """Change a drawn ROI through the protocol, so tasks see what the page shows: ``move`` [dx, dy],
    ``points`` [[x, y], ...], ``rect`` (with ``viewer``, ``frame``, ``slice``: drawn anew), ``name``,
    ``color`` [r, g, b]. Answers the ROI's uid (it changes when drawn anew) and whether it is selected."""
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
    connection = page.connection()
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
    selected = bool(viewer) and page.own_host() is not None and body.get("select", True) is not False
    if selected:
        page.hand(SelectRois(viewer=str(viewer), uids=[uid]), "Selecting ROIs")
    return {"roi": {"uid": uid, "selected": selected}}


def version(page: Page, call: Call) -> dict[str, Any]:
    """A token that changes when what a viewer shows may have changed (its display, the shown plane's
    pixels, that plane's ROIs), for an OsiriX without change counters (``/api/changes`` says
    ``supported: false``): the page compares it with the last one."""
    uid, frame, index = call.path["uid"], call.integer("frame", 0, low=0), call.integer("slice", 0, low=0)
    connection = page.connection()
    state = windows.viewer_state(connection, uid)
    digest = hashlib.blake2b(digest_size=8)
    digest.update(repr((state.title, state.idx, state.movie_idx, state.wl, state.ww)).encode())
    planes = state.pix[frame] if frame < len(state.pix) else []
    if index < len(planes):
        digest.update(connection.pixels(types_pb2.DCMPix(osirixrpc_uid=planes[index])).tobytes())
    viewer = types_pb2.ViewerController(osirixrpc_uid=uid)
    for roi in list_rois(connection, viewer, frame=frame, plane=index, drawing=True):
        digest.update(repr((roi.uid, roi.name, roi.color, roi.points, roi.selected)).encode())
    return {"version": digest.hexdigest()}


def remove_roi(page: Page, call: Call) -> dict[str, Any]:
    """Delete an ROI."""
    delete_roi(page.connection(), call.path["roi_uid"])
    return {"ok": True}


routes = [
    Route("/api/changes", api(changes), methods=["GET"]),
    Route("/api/viewers", api(listing), methods=["GET"]),
    Route("/api/viewers/{uid}", api(detail), methods=["GET"]),
    Route("/api/viewers/{uid}", api(change), methods=["PUT"]),
    Route("/api/viewers/{uid}", api(close), methods=["DELETE"]),
    Route("/api/viewers/{uid}/front", api(front), methods=["POST"]),
    Route("/api/viewers/{uid}/rois", api(rois), methods=["GET"]),
    Route("/api/viewers/{uid}/rois", api(new_roi), methods=["POST"]),
    Route("/api/viewers/{uid}/rois/export", api(export_rois), methods=["GET"]),
    Route("/api/viewers/{uid}/select-rois", api(select_rois), methods=["POST"]),
    Route("/api/rois/{roi_uid}", api(remove_roi), methods=["DELETE"]),
    Route("/api/rois/{roi_uid}", api(edit_roi), methods=["PUT"]),
    Route("/api/viewers/{uid}/version", api(version), methods=["GET"]),
    Route("/api/pix", api(many_pixels), methods=["GET"]),
    Route("/api/pix/{pix_uid}", api(pixels), methods=["GET"]),
    Route("/api/pix/{pix_uid}/digest", api(digest), methods=["GET"]),
]

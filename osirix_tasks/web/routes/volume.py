"""The 3D window: open one from a viewer, its state, its rendering (MIP or VR), WL/WW and mode."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from starlette.responses import Response
from starlette.routing import Route

from ...errors import OsirixTasksError
from ..api import Call, api, raw
from ..context import WebContext
from ..render3d import render

_volumes: dict[tuple[str, str], tuple[np.ndarray, tuple[float, float, float]]] = {}
_lock = threading.Lock()


def _volume(context: WebContext, viewer_uid: str) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The viewer's volume, read once per viewer and pixel state (a task that changes pixels refreshes it)."""
    reader = context.reader
    info = reader.viewer(viewer_uid)
    plane = info["pix"][info["movie_idx"]][len(info["pix"][info["movie_idx"]]) // 2]
    latest = context.store().latest()
    runs = f"{latest.id}:{latest.status}" if latest else ""
    key = (viewer_uid, f"{info['movie_idx']}:{reader.pixel_digest(plane)}:{runs}")
    with _lock:
        if key not in _volumes:
            for old in [k for k in _volumes if k[0] == viewer_uid]:
                del _volumes[old]
            _volumes[key] = reader.volume(viewer_uid)
        return _volumes[key]


def open_vr(context: WebContext, call: Call) -> dict[str, Any]:
    mode = str(call.body.get("mode") or "VR")
    return {"vr": context.reader.open_vr(call.path["uid"], mode)}


def listing(context: WebContext, call: Call) -> dict[str, Any]:
    return context.reader.vr_windows()


def detail(context: WebContext, call: Call) -> dict[str, Any]:
    return context.reader.vr(call.path["uid"])


def change(context: WebContext, call: Call) -> dict[str, Any]:
    body = call.body
    mode = body.get("mode")
    if mode is not None and mode not in ("VR", "MIP"):
        raise OsirixTasksError(f"rendering mode {mode!r} is not VR or MIP")
    wl, ww = call.maybe_number("wl"), call.maybe_number("ww")
    context.reader.set_vr(call.path["uid"], mode=mode, wl=wl, ww=ww)
    return context.reader.vr(call.path["uid"])


def front(context: WebContext, call: Call) -> dict[str, Any]:
    context.host_side.bring_to_front(call.path["uid"], "VRController")
    return {"ok": True}


def picture(context: WebContext, call: Call) -> Response:
    info = context.reader.vr(call.path["uid"])
    volume, spacing = _volume(context, info["viewer"])
    size = call.integer("size", 192, low=32, high=512)
    image = render(
        volume,
        spacing,
        mode=info["mode"],
        wl=info["wl"],
        ww=info["ww"],
        azimuth=call.number("azimuth", 0.0),
        elevation=call.number("elevation", 0.0),
        size=size,
    )
    return raw(image.tobytes(), rows=size, columns=size, format="rgba8", mode=info["mode"])


routes = [
    Route("/api/viewers/{uid}/vr", api(open_vr), methods=["POST"]),
    Route("/api/vr", api(listing), methods=["GET"]),
    Route("/api/vr/{uid}", api(detail), methods=["GET"]),
    Route("/api/vr/{uid}", api(change), methods=["PUT"]),
    Route("/api/vr/{uid}/front", api(front), methods=["POST"]),
    Route("/api/vr/{uid}/render", api(picture), methods=["GET"]),
]

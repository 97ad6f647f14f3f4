"""The 3D window: open one from a viewer, its state, its rendering (MIP or VR), WL/WW and mode."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import numpy as np
from osirixgrpc import types_pb2
from starlette.responses import Response
from starlette.routing import Route

from ...client import windows
from ...client.viewer_tools import open_3d
from ...errors import BadRequest
from ...host.control_protocol import BringToFront, WhatChanged
from ...vocabulary import RENDERING_MODES
from ..api import Call, api, raw
from ..page import Page
from ..render3d import PRESETS, colour_table, render

#: The largest picture side the page may ask for (a sharp render of a large window).
MAX_SIZE = 768

_volumes: dict[tuple[str, str], tuple[np.ndarray, tuple[float, float, float]]] = {}
_lock = threading.Lock()


def _pixel_state(page: Page, viewer_uid: str) -> str:
    """What the viewer's pixels are now: its pixel change counter in the embedded OsiriX, else the
    displayed frame and a hash of its middle plane with the latest run (a task may have changed them)."""
    if page.own_host() is not None:
        versions = page.hand(WhatChanged(since=0), "Watching changes").data["viewers"].get(viewer_uid) or {}
        ref = types_pb2.ViewerController(osirixrpc_uid=viewer_uid)
        movie_idx = page.connection().call("ViewerControllerMovieIdx", ref).movie_idx
        return f"{movie_idx}:v{versions.get('pixels', 0)}"
    state = windows.viewer_state(page.connection(), viewer_uid)
    planes = state.pix[state.movie_idx]
    plane = page.connection().pixels(types_pb2.DCMPix(osirixrpc_uid=planes[len(planes) // 2]))
    latest = page.store().latest()
    runs = f"{latest.id}:{latest.status}" if latest else ""
    return f"{state.movie_idx}:{hashlib.blake2b(plane.tobytes(), digest_size=8).hexdigest()}:{runs}"


def _volume(page: Page, viewer_uid: str) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The viewer's volume, read once per viewer and pixel state (a task that changes pixels refreshes it)."""
    key = (viewer_uid, _pixel_state(page, viewer_uid))
    with _lock:
        if key not in _volumes:
            for old in [k for k in _volumes if k[0] == viewer_uid]:
                del _volumes[old]
            _volumes[key] = windows.viewer_volume(page.connection(), viewer_uid)
        return _volumes[key]


def open_vr(page: Page, call: Call) -> dict[str, Any]:
    """Open a 3D window (body: ``mode``, VR or MIP) on a 2D viewer; its uid."""
    mode = str(call.body.get("mode") or "VR")
    viewer = types_pb2.ViewerController(osirixrpc_uid=call.path["uid"])
    return {"vr": open_3d(page.connection(), mode, viewer).osirixrpc_uid}


def listing(page: Page, call: Call) -> dict[str, Any]:
    """The open 3D windows and which is frontmost."""
    shown, front = windows.vr_windows(page.connection())
    return {"windows": shown, "frontmost": front}


def _presets() -> list[dict[str, Any]]:
    return [
        {"name": name, "wl": window[0] if window else None, "ww": window[1] if window else None}
        for name, (window, _) in PRESETS.items()
    ]


def detail(page: Page, call: Call) -> dict[str, Any]:
    """A 3D window's state, and the presets the page offers (a window and a colour table each)."""
    return {**windows.vr_state(page.connection(), call.path["uid"]).to_json(), "presets": _presets()}


def change(page: Page, call: Call) -> dict[str, Any]:
    """Change a 3D window's rendering mode or WL/WW (through OsiriXgrpc)."""
    body = call.body
    mode = body.get("mode")
    if mode is not None and mode not in RENDERING_MODES:
        raise BadRequest("mode", f"rendering mode {mode!r} is not one of {', '.join(RENDERING_MODES)}")
    wl, ww = call.maybe_number("wl"), call.maybe_number("ww")
    windows.set_vr(page.connection(), call.path["uid"], mode=mode, wl=wl, ww=ww)
    return {**windows.vr_state(page.connection(), call.path["uid"]).to_json(), "presets": _presets()}


def front(page: Page, call: Call) -> dict[str, Any]:
    """Bring the 3D window to the front (in the embedded OsiriX; a real one's user clicks it)."""
    if page.own_host() is not None:
        page.hand(BringToFront(uid=call.path["uid"], kind="VRController"), "Bringing a 3D window to the front")
    return {"ok": True}


def picture(page: Page, call: Call) -> Response:
    """A 3D window's picture rendered by the host (``?size=``, ``preset=``, ``zoom=``, ``azimuth=``, ``elevation=``)."""
    info = windows.vr_state(page.connection(), call.path["uid"])
    volume, spacing = _volume(page, info.viewer)
    size = call.integer("size", 192, low=32, high=MAX_SIZE)
    preset = call.query.get("preset") or "Grey"
    if preset not in PRESETS:
        raise BadRequest("preset", f"no preset {preset!r} - use one of {', '.join(PRESETS)}")
    zoom = call.number("zoom", 1.0)
    if not 0.25 <= zoom <= 16:
        raise BadRequest("zoom", f"must be from 0.25 to 16, got {zoom}")
    image = render(
        volume,
        spacing,
        mode=info.mode,
        wl=info.wl,
        ww=info.ww,
        azimuth=call.number("azimuth", 0.0),
        elevation=call.number("elevation", 0.0),
        size=size,
        zoom=zoom,
        colours=colour_table(PRESETS[preset][1]),
    )
    return raw(image.tobytes(), rows=size, columns=size, format="rgba8", mode=info.mode)


routes = [
    Route("/api/viewers/{uid}/vr", api(open_vr), methods=["POST"]),
    Route("/api/vr", api(listing), methods=["GET"]),
    Route("/api/vr/{uid}", api(detail), methods=["GET"]),
    Route("/api/vr/{uid}", api(change), methods=["PUT"]),
    Route("/api/vr/{uid}/front", api(front), methods=["POST"]),
    Route("/api/vr/{uid}/render", api(picture), methods=["GET"]),
]

"""What the reading viewer needs beyond the plane: where each slice lies (origins, slice locations,
orientation), the file's header facts for the corners, overlay planes, and orthogonal MPR planes."""

from __future__ import annotations

from typing import Any

from osirixgrpc import types_pb2, viewercontroller_pb2
from starlette.responses import Response
from starlette.routing import Route

from ...errors import OsirixTasksError
from ..api import Call, api
from ..header import header_info, overlays
from ..mpr import PLANES, Stack, StackCache, reslice, stack_of
from ..page import Page
from ..planes import plane_response

#: The stacks MPR reslices, shared by every page of this host (bounded by bytes).
STACKS = StackCache()


def _pix_list(page: Page, uid: str, frame: int) -> list[Any]:
    ref = types_pb2.ViewerController(osirixrpc_uid=uid)
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=ref, movie_idx=frame)
    return list(page.connection().call("ViewerControllerPixList", request).pix)


def _geometry_of(page: Page, pixes: list[Any]) -> dict[str, Any]:
    call = page.connection().call
    first = pixes[0]
    origins = []
    locations = []
    for pix in pixes:
        origin = call("DCMPixOrigin", pix)
        origins.append([origin.origin_x, origin.origin_y, origin.origin_z])
        locations.append(call("DCMPixSliceLocation", pix).slice_location)
    spacing = call("DCMPixSpacing", first)
    return {
        "orientation": list(call("DCMPixOrientation", first).orientation),
        "origins": origins,
        "locations": locations,
        "spacing": [spacing.spacing_rows, spacing.spacing_columns],
    }


def geometry(page: Page, call: Call) -> dict[str, Any]:
    """Where each slice of a frame lies in the patient, and the file's header facts (corners)."""
    frame = call.integer("frame", 0, low=0)
    pixes = _pix_list(page, call.path["uid"], frame)
    if not pixes:
        raise OsirixTasksError("the viewer has no image in this frame")
    out = _geometry_of(page, pixes)
    path = page.connection().call("DCMPixSourceFile", pixes[0]).source_file
    out["header"] = header_info(path)
    return out


def pix_overlays(page: Page, call: Call) -> dict[str, Any]:
    """The DICOM overlay planes (60xx) of one plane's file."""
    pix = types_pb2.DCMPix(osirixrpc_uid=call.path["pix_uid"])
    path = page.connection().call("DCMPixSourceFile", pix).source_file
    return {"overlays": overlays(path, call.integer("frame", 0, low=0))}


def _stack(page: Page, uid: str, frame: int, version: str) -> Stack:
    key = (page.address(), uid, str(frame), version)
    stack = STACKS.get(key)
    if stack is None:
        pixes = _pix_list(page, uid, frame)
        facts = _geometry_of(page, pixes)
        volume = page.connection().volume(pixes)
        if volume.ndim == 4:
            raise OsirixTasksError("MPR of colour (RGB) images is not available - convert them to grey first")
        stack = stack_of(volume, facts["orientation"], facts["origins"], tuple(facts["spacing"]))
        STACKS.put(key, stack)
    return stack


def mpr_info(page: Page, call: Call) -> dict[str, Any]:
    """The three planes' geometry (sizes, spacing, patient directions), or why MPR is refused."""
    stack = _stack(page, call.path["uid"], call.integer("frame", 0, low=0), call.query.get("version", ""))
    planes = {}
    for plane in PLANES:
        _, planes[plane] = reslice(stack, plane, 0)
    slices, rows, columns = stack.volume.shape
    return {"shape": [slices, rows, columns], "planes": planes, "interval": stack.interval}


def mpr_plane(page: Page, call: Call) -> Response:
    """One plane of the orthogonal MPR (rows = screen y), encoded as a 2D viewer's planes are."""
    plane = call.path["plane"]
    if plane not in PLANES:
        raise OsirixTasksError(f"plane must be one of {', '.join(PLANES)}, got {plane!r}")
    stack = _stack(page, call.path["uid"], call.integer("frame", 0, low=0), call.query.get("version", ""))
    image, _ = reslice(stack, plane, call.integer("index", 0, low=0))
    return plane_response(image)


routes = [
    Route("/api/viewers/{uid}/geometry", api(geometry), methods=["GET"]),
    Route("/api/viewers/{uid}/mpr", api(mpr_info), methods=["GET"]),
    Route("/api/viewers/{uid}/mpr/{plane}", api(mpr_plane), methods=["GET"]),
    Route("/api/pix/{pix_uid}/overlays", api(pix_overlays), methods=["GET"]),
]

"""``Osirix*`` RPCs: the application, its browser and its windows, the object cache (``gRPCOsirixDelegate.mm``)."""

from __future__ import annotations

from typing import Any

from ... import __version__
from ...errors import OsirixError
from ..state import BROWSER_KEY, OsirixState
from .tables import getters

#: What OsirixVersion answers. We are not OsiriX, so we say what we are, in OsiriX's two fields
#: (CFBundleShortVersionString and CFBundleName).
VERSION = f"osirix-tasks {__version__}"
BUNDLE_NAME = "OsiriX (osirix-tasks embedded)"


def _application(state: OsirixState, request: Any) -> OsirixState:
    return state


def _frontmost_viewer(state: OsirixState, _: Any) -> dict[str, Any]:
    viewer = state.viewers.frontmost()
    if viewer is None:
        raise OsirixError("No ViewerController active")
    return {"viewer_controller": state.ref("ViewerController", viewer)}


def _frontmost_vr(state: OsirixState, _: Any) -> dict[str, Any]:
    vr = state.viewers.frontmost_vr()
    if vr is None:
        raise OsirixError("No VRController active")
    return {"vr_controller": state.ref("VRController", vr)}


def _object_type(state: OsirixState, request: Any) -> dict[str, Any]:
    """The type name of the object behind a uid, or ``no object``."""
    entry = state.cache.lookup(request.uid) if request.uid else None
    return {"object_type": entry[0] if entry else "no object"}


getters(
    _application,
    {
        "OsirixCurrentBrowser": lambda state, _: {"browser_controller": state.ref("BrowserController", BROWSER_KEY)},
        "OsirixVersion": lambda state, _: {"version": VERSION, "bundle_name": BUNDLE_NAME},
        "OsirixCacheUids": lambda state, _: {"uids": state.cache.uids()},
        "OsirixFrontmostViewer": _frontmost_viewer,
        "OsirixDisplayed2DViewers": lambda state, _: {
            "viewer_controllers": [state.ref("ViewerController", v) for v in state.viewers.displayed()]
        },
        "OsirixFrontmostVRController": _frontmost_vr,
        "OsirixDisplayedVRControllers": lambda state, _: {
            "vr_controllers": [state.ref("VRController", v) for v in state.viewers.displayed_vr()]
        },
    },
)

getters(lambda state, request: request, {"OsirixCacheObjectForUid": _object_type})

"""``Osirix*`` RPCs: the application, its browser and its windows, the object cache."""

from __future__ import annotations

from typing import Any

from .. import __version__
from .protocol import RpcFailure, implements, ok
from .state import BROWSER_KEY, OsirixState

#: What OsirixVersion answers. We are not OsiriX, so we say what we are.
VERSION = f"osirix-tasks {__version__}"
BUNDLE_NAME = "OsiriX (osirix-tasks embedded)"


@implements
def OsirixCurrentBrowser(state: OsirixState, request: Any) -> Any:
    """The database browser: there is always exactly one."""
    return ok("OsirixCurrentBrowser", browser_controller=state.ref("BrowserController", BROWSER_KEY))


@implements
def OsirixVersion(state: OsirixState, request: Any) -> Any:
    """Version string and bundle name (pyosirix calls it as a connection check)."""
    return ok("OsirixVersion", version=VERSION, bundle_name=BUNDLE_NAME)


@implements
def OsirixCacheUids(state: OsirixState, request: Any) -> Any:
    """Every uid the cache holds."""
    return ok("OsirixCacheUids", uids=state.cache.uids())


@implements
def OsirixCacheObjectForUid(state: OsirixState, request: Any) -> Any:
    """The type name of the object behind a uid, or ``no object``."""
    entry = state.cache.lookup(request.uid) if request.uid else None
    return ok("OsirixCacheObjectForUid", object_type=entry[0] if entry else "no object")


@implements
def OsirixFrontmostViewer(state: OsirixState, request: Any) -> Any:
    """The active 2D viewer."""
    viewer = state.viewers.frontmost()
    if viewer is None:
        raise RpcFailure("No ViewerController active")
    return ok("OsirixFrontmostViewer", viewer_controller=state.ref("ViewerController", viewer))


@implements
def OsirixDisplayed2DViewers(state: OsirixState, request: Any) -> Any:
    """All open 2D viewers (possibly none)."""
    viewers = state.viewers.displayed()
    return ok("OsirixDisplayed2DViewers", viewer_controllers=[state.ref("ViewerController", v) for v in viewers])


@implements
def OsirixFrontmostVRController(state: OsirixState, request: Any) -> Any:
    """The active 3D window."""
    vr = state.viewers.frontmost_vr()
    if vr is None:
        raise RpcFailure("No VRController active")
    return ok("OsirixFrontmostVRController", vr_controller=state.ref("VRController", vr))


@implements
def OsirixDisplayedVRControllers(state: OsirixState, request: Any) -> Any:
    """All open 3D windows."""
    controllers = state.viewers.displayed_vr()
    return ok("OsirixDisplayedVRControllers", vr_controllers=[state.ref("VRController", v) for v in controllers])

"""What changed, and when: a change counter per object, so a viewer of the state (the page) asks
"what changed since N?" instead of reading and hashing whole planes.

One sequence number counts every change; each object keeps the number of its last change, per
aspect. A 2D viewer's aspects are ``pixels`` (a DCMPix of it was replaced or converted), ``rois``
(an ROI was drawn, edited or deleted) and ``display`` (slice, frame, WL/WW, fusion); a 3D window has
``display``. Two aspects belong to the whole state: ``windows`` (a viewer or 3D window opened,
closed or came to the front) and ``browser`` (the database's content or its selection).

The gRPC handler records the changes of the RPCs in :data:`CHANGES` after they succeed; the host's
hands (selection, window order) and imports record theirs.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

__all__ = ["Changes", "CHANGES", "ASPECTS", "STATE_ASPECTS"]

#: What each changing RPC changes of the object its request names (its viewer, for a DCMPix or an ROI).
CHANGES: dict[str, str] = {
    **dict.fromkeys(("DCMPixSetImage", "DCMPixConvertToRGB", "DCMPixConvertToBW"), "pixels"),
    **dict.fromkeys(
        (
            "ROIDelete",
            "ROIFlipHorizontally",
            "ROIFlipVertically",
            "ROIRotate",
            "ROIMove",
            "ROISetName",
            "ROISetColor",
            "ROISetOpacity",
            "ROISetThickness",
            "ROISetPoints",
            "ViewerControllerNewROI",
        ),
        "rois",
    ),
    **dict.fromkeys(
        (
            "ViewerControllerSetMovieIdx",
            "ViewerControllerSetIdx",
            "ViewerControllerSetDisplayedIdx",
            "ViewerControllerSetWLWW",
            "ViewerControllerFuseWithViewer",
            "ViewerControllerNeedsDisplayUpdate",
            "VRControllerSetRenderingMode",
            "VRControllerSetWLWW",
            "VRControllerHideROIVolume",
            "VRControllerDisplayROIVolume",
            "VRControllerNeedsDisplayUpdate",
            "ROIVolumeSetTexture",
            "ROIVolumeSetColor",
            "ROIVolumeSetOpacity",
            "ROIVolumeSetFactor",
        ),
        "display",
    ),
    **dict.fromkeys(
        (
            "ViewerControllerCloseViewer",
            "ViewerControllerCopyViewerWindow",
            "ViewerControllerResampleViewerController",
            "ViewerControllerOpenVRViewerForMode",
            "BrowserControllerOpenViewerFromImages",
        ),
        "windows",
    ),
}
#: The aspects of one object, and those of the whole state.
ASPECTS = ("pixels", "rois", "display")
STATE_ASPECTS = ("windows", "browser")
#: Request fields that name an object, and the object's kind.
_REFERENCES = {
    "viewer_controller": "ViewerController",
    "pix": "DCMPix",
    "roi": "ROI",
    "vr_controller": "VRController",
    "roi_volume": "ROIVolume",
}


class Changes:
    """The change counters of one OsiriX state (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._objects: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
        self._state = dict.fromkeys(STATE_ASPECTS, 0)

    @property
    def now(self) -> int:
        """The number of the last change (0: none yet)."""
        with self._lock:
            return self._seq

    def touch(self, obj: Any, aspect: str) -> int:
        """Record that ``aspect`` of ``obj`` (a viewer or 3D window) changed; returns the change's number."""
        with self._lock:
            self._seq += 1
            versions = self._objects.setdefault(obj, {})
            versions[aspect] = versions["version"] = self._seq
            return self._seq

    def touch_state(self, aspect: str) -> int:
        """Record a change of the whole state (``windows`` or ``browser``)."""
        with self._lock:
            self._seq += 1
            self._state[aspect] = self._seq
            return self._seq

    def versions(self, obj: Any) -> dict[str, int]:
        """The number of the last change of each aspect of ``obj`` and of any (``version``); 0 for none."""
        with self._lock:
            known = self._objects.get(obj, {})
            return {name: known.get(name, 0) for name in ("version", *ASPECTS)}

    def state_versions(self) -> dict[str, int]:
        """The number of the last ``windows`` and ``browser`` change."""
        with self._lock:
            return dict(self._state)

    def changed_since(self, seq: int) -> list[tuple[Any, dict[str, int]]]:
        """The objects changed after change number ``seq``, with their versions."""
        with self._lock:
            return [(obj, dict(v)) for obj, v in self._objects.items() if v.get("version", 0) > seq]

    # --- the gRPC handler's side ------------------------------------------------------------

    def affected(self, state: Any, rpc: str, request: Any) -> tuple[str, list[Any]] | None:
        """What a call of ``rpc`` will change, found before it runs (a deleted ROI's viewer is known
        only then); None for a call that changes nothing."""
        aspect = CHANGES.get(rpc)
        if aspect is None:
            return None
        if aspect == "windows":
            return aspect, []
        owners: list[Any] = []
        for obj in _named_objects(state, request):
            owners.extend(_owners(state, obj))
        return aspect, owners

    def record(self, affected: tuple[str, list[Any]]) -> None:
        """Record the changes of a call that succeeded (see :meth:`affected`)."""
        aspect, owners = affected
        if aspect == "windows":
            self.touch_state("windows")
            return
        for owner in dict.fromkeys(owners):
            self.touch(owner, aspect)


def _named_objects(state: Any, request: Any) -> list[Any]:
    """The live objects a request names (itself a reference, or in one of its reference fields)."""
    refs: list[tuple[str, Any]] = []
    descriptor = getattr(request, "DESCRIPTOR", None)
    if descriptor is not None and descriptor.name in _REFERENCES.values():
        refs.append((descriptor.name, request))
    for name, kind in _REFERENCES.items():
        ref: Any = getattr(request, name, None)
        if ref is not None and bool(getattr(ref, "osirixrpc_uid", None)):
            refs.append((kind, ref))
    found = []
    for kind, ref in refs:
        entry = state.cache.lookup(ref.osirixrpc_uid)
        if entry is not None and entry[0] == kind:
            found.append(entry[1])
    return found


def _owners(state: Any, obj: Any) -> list[Any]:
    """The viewer or 3D window whose change ``obj``'s change is: a DCMPix's and an ROI's viewer(s),
    an ROI volume's 3D window; a viewer or 3D window itself."""
    from .workspace import Pix, Roi, RoiVolume

    if isinstance(obj, Roi):
        return [obj.viewer]
    if isinstance(obj, RoiVolume):
        return [obj.vr]
    if isinstance(obj, Pix):
        return [v for v in state.viewers.viewers if any(p is obj for frame in v.frames for p in frame)]
    return [obj]

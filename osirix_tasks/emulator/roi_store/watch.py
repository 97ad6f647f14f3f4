"""Which protocol calls change which viewer's ROIs, so the store saves them (the servicer asks
before and after each call).

Before a call we find the viewer it acts on (a deleted ROI's viewer is known only before);
after the call succeeded, that viewer's ROIs are marked changed. A closing viewer (closed, or
replaced by its resampled copy) has its changed planes taken before the call.
"""

from __future__ import annotations

from typing import Any

__all__ = ["before_call", "after_call", "ROI_EDITS", "VIEWER_EDITS", "VIEWER_CLOSES"]

#: ROI calls that change what is stored, and the request field holding the ROI ("" = the request).
ROI_EDITS = {
    "ROISetName": "roi",
    "ROISetColor": "roi",
    "ROISetOpacity": "roi",
    "ROISetThickness": "roi",
    "ROISetPoints": "roi",
    "ROIMove": "roi",
    "ROIRotate": "roi",
    "ROIFlipHorizontally": "",
    "ROIFlipVertically": "",
    "ROIDelete": "",
}
#: Viewer calls that add ROIs, and the request field holding the viewer.
VIEWER_EDITS = {"ViewerControllerNewROI": "viewer_controller"}
#: Viewer calls that close a viewer, and the request field holding it.
VIEWER_CLOSES = {"ViewerControllerCloseViewer": "", "ViewerControllerResampleViewerController": "viewer_controller"}


def _object(state: Any, request: Any, field: str, kind: str) -> Any:
    ref = getattr(request, field) if field else request
    uid = getattr(ref, "osirixrpc_uid", "")
    entry = state.cache.lookup(uid) if uid else None
    return entry[1] if entry is not None and entry[0] == kind else None


def before_call(state: Any, name: str, request: Any) -> Any:
    """The viewer whose ROIs the call ``name`` will change (None for other calls); a closing viewer's
    changes are taken now."""
    store = getattr(state, "roi_store", None)
    if store is None or not store.enabled:
        return None
    if name in ROI_EDITS:
        roi = _object(state, request, ROI_EDITS[name], "ROI")
        return getattr(roi, "viewer", None)
    if name in VIEWER_EDITS:
        return _object(state, request, VIEWER_EDITS[name], "ViewerController")
    if name in VIEWER_CLOSES:
        viewer = _object(state, request, VIEWER_CLOSES[name], "ViewerController")
        if viewer is not None and not viewer.closed:
            store.closing(viewer)
    return None


def after_call(state: Any, viewer: Any) -> None:
    """The call succeeded: ``viewer``'s ROIs are saved soon."""
    if viewer is not None:
        state.roi_store.changed(viewer)

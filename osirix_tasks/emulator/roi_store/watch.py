"""Which protocol calls change which viewer's ROIs, so the store saves them (the servicer asks
before and after each call).

The calls that change a viewer's ROIs are those the change counters file under ``rois``
(:data:`..changes.CHANGES`): once such a call succeeded, the viewers the counters recorded it
for (a deleted ROI's viewer is found before the call) have their ROIs saved soon. A closing
viewer (closed, or replaced by its resampled copy) has its changed planes taken before the call.
"""

from __future__ import annotations

from typing import Any

__all__ = ["before_call", "after_call", "VIEWER_CLOSES"]

#: Viewer calls that close a viewer, and the request field holding it ("" = the request).
VIEWER_CLOSES = {"ViewerControllerCloseViewer": "", "ViewerControllerResampleViewerController": "viewer_controller"}


def _viewer(state: Any, request: Any, field: str) -> Any:
    ref = getattr(request, field) if field else request
    uid = getattr(ref, "osirixrpc_uid", "")
    entry = state.cache.lookup(uid) if uid else None
    return entry[1] if entry is not None and entry[0] == "ViewerController" else None


def before_call(state: Any, name: str, request: Any) -> None:
    """A viewer the call ``name`` closes has its changed planes taken now (and saved at once)."""
    store = getattr(state, "roi_store", None)
    if store is None or not store.enabled or name not in VIEWER_CLOSES:
        return
    viewer = _viewer(state, request, VIEWER_CLOSES[name])
    if viewer is not None and not viewer.closed:
        store.closing(viewer)


def after_call(state: Any, affected: tuple[str, list[Any]]) -> None:
    """The call succeeded and changed ``affected`` (the change counters' aspect and viewers): the
    viewers whose ROIs it changed are saved soon."""
    aspect, owners = affected
    store = getattr(state, "roi_store", None)
    if aspect != "rois" or store is None:
        return
    for viewer in dict.fromkeys(owners):
        store.changed(viewer)

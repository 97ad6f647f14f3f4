"""``ViewerController*`` RPCs and ``BrowserControllerOpenViewerFromImages``: 2D viewers
(``gRPCViewerControllerDelegate.mm``, Horos ``ViewerController.m``)."""

from __future__ import annotations

from typing import Any

from osirixgrpc import viewercontroller_pb2

from ...errors import OsirixError
from ..propagation import propagate_settings
from ..protocol import implements, ok
from ..resample import check_resamplable, resample_planes
from ..roi_factory import new_roi
from ..state import OsirixState
from ..viewer_geometry import compute_interval, is_volumic
from ..workspace import Pix, Viewer, VRController
from .tables import field, fields, finite, getters, ref, refs, setters

ROISlice = viewercontroller_pb2.ViewerControllerROIListResponse.ROISlice
#: The exception reason OsiriX reports when an image uid is not cached (a nil added to an array).
NIL_IMAGE = "*** -[__NSArrayM insertObject:atIndex:]: object cannot be nil"


def _viewer(state: OsirixState, ref_: Any) -> Viewer:
    viewer: Viewer = state.live(ref_, "ViewerController")
    return viewer


def _displayed_index(viewer: Viewer) -> int:
    """``imageIndex``: the slice as displayed (counted from the other end when the data are flipped)."""
    return viewer.slices - 1 - viewer.idx if viewer.flipped else viewer.idx


def _in_range(viewer: Viewer, idx: int) -> int:
    """The plugin's check for SetIdx and SetDisplayedIdx."""
    if idx >= viewer.slices or idx < 0:
        raise OsirixError(f"Index {idx} is out of range")
    return idx


def _set_movie_idx(viewer: Viewer, request: Any) -> None:
    """The plugin refuses > max or < 0; OsiriX's ``setMovieIndex:`` then wraps max around to 0."""
    movie_idx = request.movie_idx
    frames = len(viewer.frames)
    if movie_idx > frames or movie_idx < 0:
        raise OsirixError("Invalid movie index")
    viewer.movie_idx = 0 if movie_idx >= frames else movie_idx


def _set_idx(viewer: Viewer, request: Any) -> None:
    viewer.idx = _in_range(viewer, request.idx)


def _set_displayed_idx(viewer: Viewer, request: Any) -> None:
    displayed = _in_range(viewer, request.displayed_idx)
    viewer.idx = viewer.slices - 1 - displayed if viewer.flipped else displayed


def _set_wlww(viewer: Viewer, request: Any) -> None:
    viewer.wl, viewer.ww = finite(request.wl, "wl"), finite(request.ww, "ww")


def _selected_rois(state: OsirixState, viewer: Viewer) -> list[Any]:
    """``selectedROIs``: the ROIs of the displayed slice that are selected."""
    return [r for r in viewer.rois[viewer.movie_idx][viewer.idx] if r.selected]


def _vr_controllers(state: OsirixState, viewer: Viewer) -> list[VRController]:
    return [v for v in viewer.vr_controllers if not v.closed]


getters(
    _viewer,
    {
        "ViewerControllerTitle": field("title", lambda viewer: viewer.title()),
        "ViewerControllerModality": field("modality", lambda viewer: viewer.modality),
        "ViewerControllerMovieIdx": field("movie_idx", lambda viewer: viewer.movie_idx),
        "ViewerControllerMaxMovieIdx": field("max_movie_idx", lambda viewer: len(viewer.frames)),
        "ViewerControllerIdx": field("idx", lambda viewer: viewer.idx),
        "ViewerControllerDisplayedIdx": field("displayed_idx", _displayed_index),
        "ViewerControllerFlippedData": field("flipped_data", lambda viewer: viewer.flipped),
        "ViewerControllerWLWW": fields(wl=lambda viewer: viewer.wl, ww=lambda viewer: viewer.ww),
        "ViewerControllerCurDCM": ref("pix", "DCMPix", lambda viewer: viewer.current_pix()),
        "ViewerControllerSelectedROIs": refs("rois", "ROI", _selected_rois),
        "ViewerControllerVRControllers": refs("vr_controllers", "VRController", _vr_controllers),
        "ViewerControllerNeedsDisplayUpdate": lambda state, viewer: {},
    },
)

setters(
    _viewer,
    "viewer_controller",
    {
        "ViewerControllerSetMovieIdx": _set_movie_idx,
        "ViewerControllerSetIdx": _set_idx,
        "ViewerControllerSetDisplayedIdx": _set_displayed_idx,
        "ViewerControllerSetWLWW": _set_wlww,
    },
)


@implements
def BrowserControllerOpenViewerFromImages(state: OsirixState, request: Any) -> Any:
    """Open a viewer of the given images, one list per movie frame; it becomes frontmost."""
    state.browser(request.browser)
    frames = [list(f.images) for f in request.frames]
    image_ids = []
    for frame in frames:
        ids = []
        for image in frame:
            try:
                ids.append(int(state.image(image).id))
            except OsirixError:
                raise OsirixError(NIL_IMAGE) from None
        image_ids.append(ids)
    if not image_ids or not all(image_ids):
        raise OsirixError("No images provided: give at least one frame with at least one image")
    if not request.movie:
        image_ids = image_ids[:1]  # a 2D viewer shows the first list; OsiriX opens a movie only when asked
    elif len({len(f) for f in image_ids}) != 1:
        raise OsirixError("All frames of a movie must have the same number of images")
    viewer = state.open_viewer(image_ids)
    return ok("BrowserControllerOpenViewerFromImages", viewer=state.ref("ViewerController", viewer))


@implements
def ViewerControllerPixList(state: OsirixState, request: Any) -> Any:
    """The DCMPix of a frame, in slice order (``pixList:`` clamps the movie index)."""
    viewer = _viewer(state, request.viewer_controller)
    frame = viewer.frames[viewer.frame_index(request.movie_idx)]
    return ok("ViewerControllerPixList", pix=[state.ref("DCMPix", p) for p in frame])


@implements
def ViewerControllerROIList(state: OsirixState, request: Any) -> Any:
    """One entry per slice, each with that slice's ROIs (``roiList:`` clamps the movie index)."""
    viewer = _viewer(state, request.viewer_controller)
    planes = viewer.rois[viewer.frame_index(request.movie_idx)]
    return ok(
        "ViewerControllerROIList", roi_slices=[ROISlice(rois=[state.ref("ROI", r) for r in plane]) for plane in planes]
    )


@implements
def ViewerControllerNewROI(state: OsirixState, request: Any) -> Any:
    """Create an ROI on slice ``idx`` of frame ``movie_idx`` (clamped as ``roiList:`` does)."""
    viewer = _viewer(state, request.viewer_controller)
    frame = viewer.frame_index(request.movie_idx)
    with state.lock:
        roi = new_roi(viewer, frame, request.idx, request)
        if not 0 <= request.idx < viewer.slices:  # OsiriX raises here: ours
            raise OsirixError(f"Slice index {request.idx} out of range: the viewer has {viewer.slices} slice(s)")
        viewer.rois[frame][request.idx].append(roi)
    return ok("ViewerControllerNewROI", roi=state.ref("ROI", roi))


@implements
def ViewerControllerROIsWithName(state: OsirixState, request: Any) -> Any:
    """ROIs named ``name`` in a frame, or in every frame with ``in_4d``."""
    viewer = _viewer(state, request.viewer_controller)
    if request.in_4d:
        frame = None
    elif 0 <= request.movie_idx < len(viewer.frames):
        frame = request.movie_idx
    else:  # OsiriX reads past its frame array here: ours
        raise OsirixError(f"Movie index {request.movie_idx} out of range: the viewer has {len(viewer.frames)} frame(s)")
    found = [r for r in viewer.all_rois(frame) if r.name == request.name]
    return ok("ViewerControllerROIsWithName", rois=[state.ref("ROI", r) for r in found])


@implements
def ViewerControllerIsDataVolumic(state: OsirixState, request: Any) -> Any:
    """Whether the slices form a volume (the current frame, or every frame with ``in_4d``)."""
    viewer = _viewer(state, request.viewer_controller)
    frames = viewer.frames if request.in_4d else [viewer.frames[viewer.movie_idx]]
    volumic = all(is_volumic(f) for f in frames)
    if request.in_4d and volumic:
        volumic = all(f[0].data.shape == frames[0][0].data.shape and len(f) == len(frames[0]) for f in frames)
    return ok("ViewerControllerIsDataVolumic", is_volumic=volumic)


def _duplicate(viewer: Viewer, frames: list[list[Pix]]) -> Viewer:
    return Viewer(
        frames,
        viewer.series_description,
        viewer.patient_name,
        viewer.modality,
        wl=viewer.wl,
        ww=viewer.ww,
        idx=min(viewer.idx, len(frames[0]) - 1),
        movie_idx=viewer.movie_idx,
        study_instance_uid=viewer.study_instance_uid,
    )


@implements
def ViewerControllerCopyViewerWindow(state: OsirixState, request: Any) -> Any:
    """A duplicate viewer of the same pixels, without ROIs (``copyViewerWindow`` deletes them); frontmost."""
    viewer = _viewer(state, request)
    with state.lock:
        copy = _duplicate(viewer, [[p.copy() for p in frame] for frame in viewer.frames])
        state.viewers.add(copy)
    return ok("ViewerControllerCopyViewerWindow", viewer_controller=state.ref("ViewerController", copy))


@implements
def ViewerControllerResampleViewerController(state: OsirixState, request: Any) -> Any:
    """``[fixed resampleSeries: moving]``: the moving viewer (this one) is closed and a viewer of its
    current frame resampled onto the fixed viewer's planes opens in its place; then the fixed viewer
    propagates its settings."""
    moving = _viewer(state, request.viewer_controller)
    try:
        fixed = _viewer(state, request.fixed_viewer_controller)
    except OsirixError:
        raise OsirixError("No fixed ViewerController cached") from None
    check_resamplable(fixed, moving)
    planes = moving.frames[moving.movie_idx]
    reference = fixed.frames[fixed.movie_idx]
    values = resample_planes(planes, reference, compute_interval(planes))
    source = planes[0]
    new_planes = []
    for plane, data in zip(reference, values, strict=True):
        copy = plane.copy()
        copy.data, copy.window = data, source.window
        copy.source_file, copy.image_id = source.source_file, source.image_id
        copy.series_id, copy.study_id = source.series_id, source.study_id
        new_planes.append(copy)
    with state.lock:
        resampled = Viewer(
            [new_planes],
            moving.series_description,
            moving.patient_name,
            moving.modality,
            wl=moving.wl,
            ww=moving.ww,
            study_instance_uid=moving.study_instance_uid,
        )
        state.forget(state.viewers.close(moving))
        state.viewers.add(resampled)
        if not fixed.closed:
            propagate_settings(fixed, state.viewers.displayed())
    return ok("ViewerControllerResampleViewerController", resampled_viewer=state.ref("ViewerController", resampled))


@implements
def ViewerControllerBlendingController(state: OsirixState, request: Any) -> Any:
    """The viewer fused on top of this one."""
    viewer = _viewer(state, request)
    if viewer.blending is None or viewer.blending.closed:
        raise OsirixError("No blending controller active")
    return ok("ViewerControllerBlendingController", blending_viewer=state.ref("ViewerController", viewer.blending))


@implements
def ViewerControllerFuseWithViewer(state: OsirixState, request: Any) -> Any:
    """``ActivateBlending:``: fuse the other viewer on top of this one (itself: nothing happens; the
    other viewer stops blending this one, OsiriX allows no cross blending)."""
    viewer = _viewer(state, request.viewer_controller)
    try:
        other = _viewer(state, request.fusion_viewer_controller)
    except OsirixError:
        raise OsirixError("No fusion ViewerController cached") from None
    with state.lock:
        if other is not viewer and viewer.blending is not other:
            viewer.blending = other
            if other.blending is viewer:
                other.blending = None
    return ok("ViewerControllerFuseWithViewer")


@implements
def ViewerControllerOpenVRViewerForMode(state: OsirixState, request: Any) -> Any:
    """The viewer's 3D window in ``VR`` or ``MIP`` mode: the one already open is reused, else a new one
    opens (carrying the viewer's fused viewer); it comes to the front."""
    viewer = _viewer(state, request.viewer_controller)
    if request.mode not in ("VR", "MIP"):
        raise OsirixError("Unavailable mode")
    with state.lock:
        existing = [v for v in viewer.vr_controllers if not v.closed and v.style == "standard"]
        if existing:
            vr = state.viewers.bring_vr_forward(existing[0])
        else:
            opened = VRController(viewer, request.mode, viewer.wl, viewer.ww, blending=viewer.blending)
            vr = state.viewers.add_vr(opened)
        vr.mode = request.mode
    return ok("ViewerControllerOpenVRViewerForMode", vr_controller=state.ref("VRController", vr))


@implements
def ViewerControllerCloseViewer(state: OsirixState, request: Any) -> Any:
    """Close the viewer: it, its DCMPix, ROIs and 3D windows leave the cache."""
    viewer = _viewer(state, request)
    state.forget(state.viewers.close(viewer))
    return ok("ViewerControllerCloseViewer")

"""``ViewerController*`` RPCs and ``BrowserControllerOpenViewerFromImages``: 2D viewers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from osirixgrpc import viewercontroller_pb2

from .protocol import RpcFailure, implements, ok
from .roi_factory import new_roi
from .state import OsirixState
from .workspace import Pix, Roi, Viewer, VRController, open_viewer, slice_interval

ROISlice = viewercontroller_pb2.ViewerControllerROIListResponse.ROISlice


def finite(value: float, what: str) -> float:
    """``value`` when it is a finite number; status 0 naming ``what`` otherwise."""
    if not math.isfinite(value):
        raise RpcFailure(f"{what} must be a finite number, got {value}")
    return value


def _viewer(state: OsirixState, ref: Any) -> Viewer:
    viewer: Viewer = state.live(ref, "ViewerController")
    return viewer


def _frame(viewer: Viewer, movie_idx: int) -> int:
    if not 0 <= movie_idx < len(viewer.frames):
        raise RpcFailure(f"Movie index {movie_idx} out of range: the viewer has {len(viewer.frames)} frame(s)")
    return movie_idx


def _slice(viewer: Viewer, idx: int) -> int:
    if not 0 <= idx < viewer.slices:
        raise RpcFailure(f"Slice index {idx} out of range: the viewer has {viewer.slices} slice(s)")
    return idx


@implements
def BrowserControllerOpenViewerFromImages(state: OsirixState, request: Any) -> Any:
    """Open a viewer of the given images, one list per movie frame; it becomes frontmost."""
    state.browser(request.browser)
    frames = [list(f.images) for f in request.frames]
    if not frames or not all(frames):
        raise RpcFailure("No images provided: give at least one frame with at least one image")
    if not request.movie:
        frames = frames[:1]  # a 2D viewer shows the first list; OsiriX opens a movie only when asked
    elif len({len(f) for f in frames}) != 1:
        raise RpcFailure("All frames of a movie must have the same number of images")
    image_ids = [[int(state.image(ref).id) for ref in frame] for frame in frames]
    viewer = open_viewer(state.db, image_ids)
    state.viewers.add(viewer)
    return ok("BrowserControllerOpenViewerFromImages", viewer=state.ref("ViewerController", viewer))


@implements
def ViewerControllerPixList(state: OsirixState, request: Any) -> Any:
    """The DCMPix of a frame, in slice order."""
    viewer = _viewer(state, request.viewer_controller)
    frame = viewer.frames[_frame(viewer, request.movie_idx)]
    return ok("ViewerControllerPixList", pix=[state.ref("DCMPix", p) for p in frame])


@implements
def ViewerControllerROIList(state: OsirixState, request: Any) -> Any:
    """One entry per slice, each with that slice's ROIs."""
    viewer = _viewer(state, request.viewer_controller)
    planes = viewer.rois[_frame(viewer, request.movie_idx)]
    return ok(
        "ViewerControllerROIList", roi_slices=[ROISlice(rois=[state.ref("ROI", r) for r in plane]) for plane in planes]
    )


@implements
def ViewerControllerNewROI(state: OsirixState, request: Any) -> Any:
    """Create an ROI on slice ``idx`` of frame ``movie_idx``."""
    viewer = _viewer(state, request.viewer_controller)
    frame, index = _frame(viewer, request.movie_idx), _slice(viewer, request.idx)
    with state.lock:
        roi = new_roi(viewer, frame, index, request)
        viewer.rois[frame][index].append(roi)
    return ok("ViewerControllerNewROI", roi=state.ref("ROI", roi))


@implements
def ViewerControllerCurDCM(state: OsirixState, request: Any) -> Any:
    """The displayed DCMPix."""
    viewer = _viewer(state, request)
    return ok("ViewerControllerCurDCM", pix=state.ref("DCMPix", viewer.frames[viewer.movie_idx][viewer.idx]))


@implements
def ViewerControllerROIsWithName(state: OsirixState, request: Any) -> Any:
    """ROIs named ``name`` in a frame, or in every frame with ``in_4d``."""
    viewer = _viewer(state, request.viewer_controller)
    frame = None if request.in_4d else _frame(viewer, request.movie_idx)
    found = [r for r in viewer.all_rois(frame) if r.name == request.name]
    return ok("ViewerControllerROIsWithName", rois=[state.ref("ROI", r) for r in found])


@implements
def ViewerControllerSelectedROIs(state: OsirixState, request: Any) -> Any:
    """The ROIs in OsiriX's 'selected' mode in the current frame.

    ROIs created through the API start unselected, as the plugin adds them in OsiriX's resting
    mode; the user selects ROIs (``osirix-tasks select --roi NAME``).
    """
    viewer = _viewer(state, request)
    found = [r for r in viewer.all_rois(viewer.movie_idx) if r.selected]
    return ok("ViewerControllerSelectedROIs", rois=[state.ref("ROI", r) for r in found])


def is_volumic(planes: list[Pix]) -> bool:
    """Same size and orientation everywhere and a regular spacing along the normal (>= 2 planes)."""
    if len(planes) < 2:
        return False
    first = planes[0]
    if any(
        p.data.shape != first.data.shape or not np.allclose(p.orientation, first.orientation, atol=1e-4) for p in planes
    ):
        return False
    normal = np.asarray(first.orientation[6:9])
    positions = np.array([np.dot(np.asarray(p.origin), normal) for p in planes])
    gaps = np.diff(positions)
    return bool(np.all(np.abs(gaps) > 1e-6) and np.allclose(gaps, gaps[0], rtol=1e-3, atol=1e-3))


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
    copy = Viewer(
        frames,
        viewer.series_description,
        viewer.patient_name,
        viewer.modality,
        wl=viewer.wl,
        ww=viewer.ww,
        idx=min(viewer.idx, len(frames[0]) - 1),
        movie_idx=viewer.movie_idx,
    )
    return copy


@implements
def ViewerControllerCopyViewerWindow(state: OsirixState, request: Any) -> Any:
    """A duplicate viewer of the same data (pixels and ROIs copied); it becomes frontmost."""
    viewer = _viewer(state, request)
    with state.lock:
        copy = _duplicate(viewer, [[p.copy() for p in frame] for frame in viewer.frames])
        for f, frame in enumerate(viewer.rois):
            for s, plane in enumerate(frame):
                for roi in plane:
                    copy.rois[f][s].append(
                        Roi(
                            roi.itype,
                            roi.name,
                            copy,
                            f,
                            s,
                            roi.points.copy(),
                            None if roi.mask is None else roi.mask.copy(),
                            roi.color,
                            roi.opacity,
                            roi.thickness,
                        )
                    )
        state.viewers.add(copy)
    return ok("ViewerControllerCopyViewerWindow", viewer_controller=state.ref("ViewerController", copy))


def _world_grid(pix: Pix) -> np.ndarray:
    """World coordinates (mm) of every pixel of a plane, shape (rows, columns, 3)."""
    row_dir, col_dir = np.asarray(pix.orientation[0:3]), np.asarray(pix.orientation[3:6])
    r, c = np.mgrid[0 : pix.rows, 0 : pix.columns].astype(np.float64)
    return np.asarray(pix.origin) + c[..., None] * pix.spacing[1] * row_dir + r[..., None] * pix.spacing[0] * col_dir


def resample_frame(moving: list[Pix], fixed: list[Pix]) -> list[Pix]:
    """Trilinear resampling of ``moving`` onto the planes of ``fixed``.

    Points outside the moving volume get its minimum value (our choice of OsiriX's padding).
    """
    volume = np.stack([p.greyscale() for p in moving]).astype(np.float64)
    first = moving[0]
    row_dir, col_dir = np.asarray(first.orientation[0:3]), np.asarray(first.orientation[3:6])
    normal = np.asarray(first.orientation[6:9])
    step = slice_interval(moving)
    if len(moving) > 1:
        direction = np.asarray(moving[1].origin) - np.asarray(first.origin)
        step = float(np.dot(direction, normal)) or step
    padding = float(volume.min())
    out = []
    for plane in fixed:
        world = _world_grid(plane) - np.asarray(first.origin)
        c = world @ row_dir / first.spacing[1]
        r = world @ col_dir / first.spacing[0]
        s = world @ normal / step
        out.append(
            Pix(
                _trilinear(volume, s, r, c, padding),
                plane.spacing,
                plane.origin,
                plane.orientation,
                plane.slice_location,
                first.source_file,
                first.image_id,
                first.series_id,
                first.study_id,
                first.window,
            )
        )
    return out


def _snap(index: np.ndarray) -> np.ndarray:
    """Indices within 1e-4 of a whole number are that number (positions carry float noise)."""
    nearest = np.rint(index)
    return np.where(np.abs(index - nearest) < 1e-4, nearest, index)


def _trilinear(volume: np.ndarray, s: np.ndarray, r: np.ndarray, c: np.ndarray, padding: float) -> np.ndarray:
    depth, rows, columns = volume.shape
    s, r, c = _snap(s), _snap(r), _snap(c)
    inside = (s >= 0) & (s <= depth - 1) & (r >= 0) & (r <= rows - 1) & (c >= 0) & (c <= columns - 1)
    s, r, c = np.clip(s, 0, depth - 1), np.clip(r, 0, rows - 1), np.clip(c, 0, columns - 1)
    s0, r0, c0 = np.floor(s).astype(int), np.floor(r).astype(int), np.floor(c).astype(int)
    s1, r1, c1 = np.minimum(s0 + 1, depth - 1), np.minimum(r0 + 1, rows - 1), np.minimum(c0 + 1, columns - 1)
    ds, dr, dc = s - s0, r - r0, c - c0
    value = np.zeros(s.shape)
    for si, ws in ((s0, 1 - ds), (s1, ds)):
        for ri, wr in ((r0, 1 - dr), (r1, dr)):
            for ci, wc in ((c0, 1 - dc), (c1, dc)):
                value += volume[si, ri, ci] * ws * wr * wc
    return np.where(inside, value, padding).astype(np.float32)


@implements
def ViewerControllerResampleViewerController(state: OsirixState, request: Any) -> Any:
    """A new viewer of this viewer's data resampled onto the fixed viewer's geometry."""
    viewer = _viewer(state, request.viewer_controller)
    fixed = _viewer(state, request.fixed_viewer_controller)
    frames = [
        resample_frame(frame, fixed.frames[min(f, len(fixed.frames) - 1)]) for f, frame in enumerate(viewer.frames)
    ]
    with state.lock:
        resampled = _duplicate(viewer, frames)
        state.viewers.add(resampled)
    return ok("ViewerControllerResampleViewerController", resampled_viewer=state.ref("ViewerController", resampled))


@implements
def ViewerControllerBlendingController(state: OsirixState, request: Any) -> Any:
    """The viewer fused on top of this one."""
    viewer = _viewer(state, request)
    if viewer.blending is None or viewer.blending.closed:
        raise RpcFailure("No blending controller")
    return ok("ViewerControllerBlendingController", blending_viewer=state.ref("ViewerController", viewer.blending))


@implements
def ViewerControllerFuseWithViewer(state: OsirixState, request: Any) -> Any:
    """Fuse the other viewer on top of this one."""
    viewer = _viewer(state, request.viewer_controller)
    other = _viewer(state, request.fusion_viewer_controller)
    if other is viewer:
        raise RpcFailure("Cannot fuse a viewer with itself")
    viewer.blending = other
    return ok("ViewerControllerFuseWithViewer")


@implements
def ViewerControllerVRControllers(state: OsirixState, request: Any) -> Any:
    """The 3D windows opened from this viewer."""
    viewer = _viewer(state, request)
    return ok(
        "ViewerControllerVRControllers",
        vr_controllers=[state.ref("VRController", v) for v in viewer.vr_controllers if not v.closed],
    )


@implements
def ViewerControllerTitle(state: OsirixState, request: Any) -> Any:
    """The window title."""
    return ok("ViewerControllerTitle", title=_viewer(state, request).title())


@implements
def ViewerControllerModality(state: OsirixState, request: Any) -> Any:
    """Modality of the displayed series."""
    return ok("ViewerControllerModality", modality=_viewer(state, request).modality)


@implements
def ViewerControllerMovieIdx(state: OsirixState, request: Any) -> Any:
    """The current frame."""
    return ok("ViewerControllerMovieIdx", movie_idx=_viewer(state, request).movie_idx)


@implements
def ViewerControllerSetMovieIdx(state: OsirixState, request: Any) -> Any:
    """Show another frame."""
    viewer = _viewer(state, request.viewer_controller)
    viewer.movie_idx = _frame(viewer, request.movie_idx)
    return ok("ViewerControllerSetMovieIdx")


@implements
def ViewerControllerMaxMovieIdx(state: OsirixState, request: Any) -> Any:
    """The number of frames."""
    return ok("ViewerControllerMaxMovieIdx", max_movie_idx=len(_viewer(state, request).frames))


@implements
def ViewerControllerIdx(state: OsirixState, request: Any) -> Any:
    """The current slice, in pix-list order."""
    return ok("ViewerControllerIdx", idx=_viewer(state, request).idx)


@implements
def ViewerControllerSetIdx(state: OsirixState, request: Any) -> Any:
    """Show another slice (pix-list order)."""
    viewer = _viewer(state, request.viewer_controller)
    viewer.idx = _slice(viewer, request.idx)
    return ok("ViewerControllerSetIdx")


def _displayed(viewer: Viewer, idx: int) -> int:
    return viewer.slices - 1 - idx if viewer.flipped else idx


@implements
def ViewerControllerDisplayedIdx(state: OsirixState, request: Any) -> Any:
    """The current slice as displayed (differs from idx when the data are flipped)."""
    viewer = _viewer(state, request)
    return ok("ViewerControllerDisplayedIdx", displayed_idx=_displayed(viewer, viewer.idx))


@implements
def ViewerControllerSetDisplayedIdx(state: OsirixState, request: Any) -> Any:
    """Show the slice at a displayed position."""
    viewer = _viewer(state, request.viewer_controller)
    viewer.idx = _displayed(viewer, _slice(viewer, request.displayed_idx))
    return ok("ViewerControllerSetDisplayedIdx")


@implements
def ViewerControllerFlippedData(state: OsirixState, request: Any) -> Any:
    """Whether the slice order is displayed flipped."""
    return ok("ViewerControllerFlippedData", flipped_data=_viewer(state, request).flipped)


@implements
def ViewerControllerWLWW(state: OsirixState, request: Any) -> Any:
    """Window level and width."""
    viewer = _viewer(state, request)
    return ok("ViewerControllerWLWW", wl=viewer.wl, ww=viewer.ww)


@implements
def ViewerControllerSetWLWW(state: OsirixState, request: Any) -> Any:
    """Set window level and width."""
    viewer = _viewer(state, request.viewer_controller)
    wl, ww = finite(request.wl, "wl"), finite(request.ww, "ww")
    viewer.wl, viewer.ww = wl, ww
    return ok("ViewerControllerSetWLWW")


@implements
def ViewerControllerOpenVRViewerForMode(state: OsirixState, request: Any) -> Any:
    """Open a 3D window (``VR`` or ``MIP``) on this viewer's data."""
    viewer = _viewer(state, request.viewer_controller)
    if request.mode not in ("VR", "MIP"):
        raise RpcFailure("Unavailable mode")
    vr = state.viewers.add_vr(VRController(viewer, request.mode, viewer.wl, viewer.ww))
    return ok("ViewerControllerOpenVRViewerForMode", vr_controller=state.ref("VRController", vr))


@implements
def ViewerControllerNeedsDisplayUpdate(state: OsirixState, request: Any) -> Any:
    """Redraw (nothing to draw here; the uid is checked)."""
    _viewer(state, request)
    return ok("ViewerControllerNeedsDisplayUpdate")


@implements
def ViewerControllerCloseViewer(state: OsirixState, request: Any) -> Any:
    """Close the viewer: it, its DCMPix, ROIs and 3D windows leave the cache."""
    viewer = _viewer(state, request)
    state.forget(state.viewers.close(viewer))
    return ok("ViewerControllerCloseViewer")

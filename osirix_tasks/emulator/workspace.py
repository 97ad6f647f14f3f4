"""What OsiriX holds in memory while it runs: 2D viewers, their DCMPix and ROIs, 3D windows.

Objects are plain Python objects; the uid cache keys them by identity. A closed viewer, a
deleted ROI or a closed 3D window is marked gone and forgotten by the cache, so its uid answers
``No <Type> cached`` from then on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .database.conventions import sorted_images
from .database.index import Database, ImageRow
from .pix import Pix
from .pixels import load_pix
from .propagation import after_data_changed
from .roi import VOLUME_TYPES, Roi

__all__ = ["Pix", "Roi", "Viewer", "VRController", "RoiVolume", "Workspace", "load_pix"]


@dataclass(eq=False)
class Viewer:
    """A 2D viewer: frames x slices DCMPix, ROIs per frame and slice, display state."""

    frames: list[list[Pix]]
    series_description: str
    patient_name: str
    modality: str
    wl: float = 0.0
    ww: float = 0.0
    idx: int = 0
    movie_idx: int = 0
    flipped: bool = False
    blending: Viewer | None = None
    study_instance_uid: str = ""
    vr_controllers: list[VRController] = field(default_factory=list)
    rois: list[list[list[Roi]]] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self) -> None:
        if not self.rois:
            self.rois = [[[] for _ in frame] for frame in self.frames]
        if self.ww == 0.0:
            self.wl, self.ww = default_window(self.frames[0][0])

    @property
    def slices(self) -> int:
        """How many slices (planes) each movie frame of the viewer has."""
        return len(self.frames[0])

    def frame_index(self, movie_idx: int) -> int:
        """``pixList:`` / ``roiList:``: a movie index clamped to the frames the viewer has."""
        return min(max(movie_idx, 0), len(self.frames) - 1)

    def current_pix(self) -> Pix:
        """The displayed DCMPix (``curDCM``)."""
        return self.frames[self.movie_idx][self.idx]

    def all_rois(self, frame: int | None = None) -> list[Roi]:
        """ROIs of one frame (all frames when None), slice by slice."""
        frames = range(len(self.frames)) if frame is None else [frame]
        return [roi for f in frames for plane in self.rois[f] for roi in plane]

    def roi_names(self) -> list[str]:
        """``roiNames``: the names of the current frame's ROIs, in order of first appearance."""
        return list(dict.fromkeys(roi.name for roi in self.all_rois(self.movie_idx)))

    def title(self) -> str:
        """The window title as OsiriX composes it: series, patient, image position (and frame)."""
        text = f"{self.series_description} - {self.patient_name} - Image {self.idx + 1}/{self.slices}"
        if len(self.frames) > 1:
            text += f" - Frame {self.movie_idx + 1}/{len(self.frames)}"
        return text


def default_window(pix: Pix) -> tuple[float, float]:
    """WL/WW from the DICOM window tags, else the full range of the values (OsiriX's fallback)."""
    if pix.window is not None:
        return pix.window
    values = pix.greyscale()
    low, high = float(values.min()), float(values.max())
    return ((low + high) / 2, max(high - low, 1.0))


@dataclass(eq=False)
class RoiVolume:
    """A 3D window's volume built from the ROIs named ``name`` (Horos ``ROIVolume.mm``).

    Defaults are ROIVolume's own: colour (0, 1, 1), opacity 1, factor 1, textured, not visible.
    """

    vr: VRController
    name: str
    color: tuple[float, float, float] = (0.0, 1.0, 1.0)
    opacity: float = 1.0
    factor: float = 1.0
    texture: bool = True
    visible: bool = False

    def rois(self) -> list[Roi]:
        """``setROIList:`` keeps the pencil, closed polygon and brush ROIs of the name, in slice order."""
        viewer = self.vr.viewer
        return [r for r in viewer.all_rois(viewer.movie_idx) if r.name == self.name and r.itype in VOLUME_TYPES]

    def volume_cm3(self) -> float:
        """``setROIList:``: trapezoids between consecutive ROIs, in the viewer's order.

        Each step adds (slice location - previous slice location) / 10 x (area + previous area) / 2
        (cm x cm2), so the sign follows the order of the slice locations. OsiriX keeps the running
        values in single precision and skips a step whose previous slice location is exactly 0.
        """
        volume = previous_area = previous_location = np.float32(0.0)
        for roi in self.rois():
            area = np.float32(roi_area_cm2(roi))
            location = roi.pix.slice_location
            if previous_location != 0:
                step = (location - float(previous_location)) / 10.0 * (float(area + previous_area) / 2.0)
                volume = np.float32(float(volume) + step)
            previous_area, previous_location = area, np.float32(location)
        return float(volume)


def roi_area_cm2(roi: Roi) -> float:
    """``-roiArea`` for the types a volume counts: the area in pixels x spacings / 100."""
    if roi.spacing[0] == 0 and roi.spacing[1] == 0:
        return 0.0
    return roi.area_cm2()


def slice_interval(planes: list[Pix]) -> float:
    """Distance between consecutive planes along the normal (mm), 1 for a single plane."""
    if len(planes) < 2:
        return 1.0
    normal = np.asarray(planes[0].orientation[6:9])
    positions = [float(np.dot(np.asarray(p.origin), normal)) for p in planes]
    return float(abs(positions[1] - positions[0])) or 1.0


@dataclass(eq=False)
class VRController:
    """A 3D window opened from a 2D viewer; ``blending`` is the viewer's fused viewer when it opened."""

    viewer: Viewer
    mode: str
    wl: float
    ww: float
    blending: Viewer | None = None
    style: str = "standard"
    volumes: dict[str, RoiVolume] = field(default_factory=dict)
    closed: bool = False

    def title(self) -> str:
        """``3D Reconstruction: <series description>``, marked when the data are 4D."""
        text = f"3D Reconstruction: {self.viewer.series_description}"
        return text + " (4D)" if len(self.viewer.frames) > 1 else text

    def roi_volumes(self) -> list[RoiVolume]:
        """One ROIVolume per ROI name of the viewer that has a pencil, closed polygon or brush ROI
        (``roiNames`` order; the objects are kept so their uids stay stable)."""
        found = []
        for name in self.viewer.roi_names():
            volume = self.volumes.get(name) or RoiVolume(self, name)
            if volume.rois():
                self.volumes[name] = volume
                found.append(volume)
        return found


class Workspace:
    """The open windows, in opening order; the frontmost is the last one brought forward."""

    def __init__(self, on_settings_changed: Callable[[Viewer], Any] | None = None) -> None:
        self.viewers: list[Viewer] = []
        self.lock = threading.RLock()
        self._front: Viewer | None = None
        self._front_vr: VRController | None = None
        #: Windows front to back as the window server stacks them (last = frontmost): closing the
        #: frontmost one brings back the one that was in front before it, as on macOS.
        self._stack: list[Viewer] = []
        self._vr_stack: list[VRController] = []
        #: Told of each viewer whose frame or WL/WW a propagation changed (the state's change counters).
        self.on_settings_changed = on_settings_changed

    def add(self, viewer: Viewer) -> Viewer:
        """A new viewer, frontmost; the viewers already open propagate their settings to it (OsiriX's
        ``changeImageData:`` of a new viewer, :func:`~.propagation.after_data_changed`)."""
        with self.lock:
            self.viewers.append(viewer)
            self._stack.append(viewer)
            self._front = viewer
            changed = after_data_changed(viewer, self.viewers)
        if self.on_settings_changed is not None:
            for other in changed:
                self.on_settings_changed(other)
        return viewer

    def close(self, viewer: Viewer) -> list[Any]:
        """Close a viewer; returns every object that goes with it (for the cache to forget)."""
        with self.lock:
            gone: list[Any] = [viewer]
            viewer.closed = True
            if viewer in self.viewers:
                self.viewers.remove(viewer)
            for vr in viewer.vr_controllers:
                vr.closed = True
                gone.append(vr)
                gone.extend(vr.volumes.values())
            for frame in viewer.frames:
                gone.extend(frame)
            for roi in viewer.all_rois():
                roi.deleted = True
                gone.append(roi)
            for other in self.viewers:
                if other.blending is viewer:
                    other.blending = None
            self._unstack(viewer)
            return gone

    def _unstack(self, viewer: Viewer) -> None:
        """Take a closed viewer (and its closed 3D windows) off the stack: the window that was in front
        before it comes back to the front."""
        self._stack = [v for v in self._stack if v is not viewer]
        self._vr_stack = [v for v in self._vr_stack if not v.closed]
        if self._front is viewer:
            self._front = self._stack[-1] if self._stack else None
        if self._front_vr is not None and self._front_vr.closed:
            self._front_vr = self._vr_stack[-1] if self._vr_stack else None

    def frontmost(self) -> Viewer | None:
        """The frontmost 2D viewer (the last opened or brought forward), or None."""
        return self._front

    def displayed(self) -> list[Viewer]:
        """The open 2D viewers, in opening order (OsiriX's ``displayedViewers``)."""
        return list(self.viewers)

    def add_vr(self, vr: VRController) -> VRController:
        """Open a 3D window on its viewer: it becomes the frontmost 3D window."""
        with self.lock:
            vr.viewer.vr_controllers.append(vr)
            self._raise_vr(vr)
        return vr

    def _raise(self, viewer: Viewer) -> None:
        self._stack = [v for v in self._stack if v is not viewer] + [viewer]
        self._front = viewer

    def _raise_vr(self, vr: VRController) -> None:
        self._vr_stack = [v for v in self._vr_stack if v is not vr] + [vr]
        self._front_vr = vr

    def bring_to_front(self, window: Viewer | VRController) -> None:
        """Make an open 2D viewer or 3D window the frontmost of its kind (the user clicked it)."""
        with self.lock:
            if isinstance(window, VRController):
                if not window.closed:
                    self._raise_vr(window)
            elif window in self.viewers:
                self._raise(window)

    def bring_vr_forward(self, vr: VRController) -> VRController:
        """Make a 3D window the frontmost one."""
        with self.lock:
            self._raise_vr(vr)
        return vr

    def frontmost_vr(self) -> VRController | None:
        """The frontmost 3D window, or None."""
        return self._front_vr

    def displayed_vr(self) -> list[VRController]:
        """The open 3D windows, viewer by viewer in opening order."""
        return [vr for v in self.viewers for vr in v.vr_controllers if not vr.closed]


def open_viewer(db: Database, frames_of_image_ids: list[list[int]]) -> Viewer:
    """A viewer of the given images (one list per frame), planes in OsiriX's order."""
    frames = []
    first: ImageRow | None = None
    for image_ids in frames_of_image_ids:
        rows = [db.image(i) for i in image_ids]
        present = [r for r in rows if r is not None]
        ordered = sorted_images(present)
        first = first or ordered[0]
        study_ids = {}
        planes = []
        for row in ordered:
            if row.series_id not in study_ids:
                series = db.series_row(row.series_id)
                study_ids[row.series_id] = series.study_id if series else None
            planes.append(load_pix(row, study_ids[row.series_id]))
        frames.append(planes)
    assert first is not None
    series = db.series_row(first.series_id)
    study = db.study(series.study_id) if series else None
    return Viewer(
        frames,
        series.description if series else "",
        study.patient_name if study else "",
        series.modality if series else first.modality,
        study_instance_uid=study.study_instance_uid if study else "",
    )

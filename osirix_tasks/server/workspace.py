"""What OsiriX holds in memory while it runs: 2D viewers, their DCMPix and ROIs, 3D windows.

Objects are plain Python objects; the uid cache keys them by identity. A closed viewer, a
deleted ROI or a closed 3D window is marked gone and forgotten by the cache, so its uid answers
``No <Type> cached`` from then on.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pydicom

from . import geometry
from .conventions import normal_of, plane_position, sorted_images
from .database import Database, ImageRow

__all__ = ["Pix", "Roi", "Viewer", "VRController", "RoiVolume", "Workspace", "load_pix", "ROI_TYPES"]

#: OsiriX's ROI tool numbers and how each is created (points, rectangle or buffer).
ROI_TYPES: dict[int, tuple[str, str]] = {
    5: ("tMeasure", "points"),
    6: ("tROI", "rectangle"),
    9: ("tOval", "rectangle"),
    10: ("tOPolygon", "points"),
    11: ("tCPolygon", "points"),
    12: ("tAngle", "points"),
    13: ("tText", "rectangle"),
    14: ("tArrow", "points"),
    15: ("tPencil", "points"),
    19: ("t2DPoint", "rectangle"),
    20: ("tPlain", "buffer"),
    24: ("tLayerROI", "points"),
    26: ("tAxis", "points"),
    27: ("tDynAngle", "points"),
    29: ("tTAGT", "points"),
    31: ("tOvalAngle", "rectangle"),
}
#: Types that enclose an area (statistics over their inside); the others measure along lines/points.
CLOSED_TYPES = {6, 9, 11, 15, 20, 24, 31}
#: How many points each points-type needs (exact count, or a minimum given as a negative number).
POINT_COUNTS = {5: 2, 14: 2, 12: 3, 26: 4, 27: 4, 29: 6, 10: -2, 11: -3, 15: -3, 24: -3}


@dataclass(eq=False)
class Pix:
    """A DCMPix: one image plane of a viewer, greyscale float32 or ARGB."""

    data: np.ndarray
    spacing: tuple[float, float]
    origin: tuple[float, float, float]
    orientation: tuple[float, ...]
    slice_location: float
    source_file: str
    image_id: int | None
    series_id: int | None
    study_id: int | None
    window: tuple[float, float] | None = None

    @property
    def is_rgb(self) -> bool:
        """True when the pixels are ARGB (rows, columns, 4)."""
        return self.data.ndim == 3

    @property
    def rows(self) -> int:
        return int(self.data.shape[0])

    @property
    def columns(self) -> int:
        return int(self.data.shape[1])

    def copy(self) -> Pix:
        """An independent copy (for duplicated and resampled viewers)."""
        return Pix(
            self.data.copy(),
            self.spacing,
            self.origin,
            self.orientation,
            self.slice_location,
            self.source_file,
            self.image_id,
            self.series_id,
            self.study_id,
            self.window,
        )

    def greyscale(self) -> np.ndarray:
        """The float32 values (a greyscale view of ARGB data: the mean of R, G, B)."""
        if self.is_rgb:
            return np.asarray(self.data[..., 1:4].mean(axis=2), dtype=np.float32)
        return self.data


def _first(value: Any, default: float | None = None) -> float | None:
    if value is None or value == "":
        return default
    if isinstance(value, list | tuple):
        return float(value[0]) if value else default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def load_pix(image: ImageRow, study_id: int | None) -> Pix:
    """Read an image's pixels from its file: float32 after rescale slope/intercept, or ARGB.

    Multi-frame files give their first frame (OsiriX makes one DCMPix per frame; the database here
    keeps one image per file).
    """
    ds = pydicom.dcmread(image.path)
    pixels = ds.pixel_array
    if int(ds.get("NumberOfFrames") or 1) > 1:
        pixels = pixels[0]
    if pixels.ndim == 3:  # colour: OsiriX keeps ARGB
        argb = np.empty((*pixels.shape[:2], 4), dtype=np.uint8)
        argb[..., 0] = 255
        argb[..., 1:4] = np.clip(pixels[..., :3], 0, 255)
        data = argb
    else:
        slope = _first(ds.get("RescaleSlope"), 1.0) or 1.0
        intercept = _first(ds.get("RescaleIntercept"), 0.0) or 0.0
        data = pixels.astype(np.float32)
        if slope != 1.0 or intercept != 0.0:
            data = (data * np.float32(slope) + np.float32(intercept)).astype(np.float32)
    spacing = image.extra.get("PixelSpacing") or [1.0, 1.0]
    orientation6 = image.orientation_6 or [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    normal = normal_of(orientation6)
    orientation = tuple(float(v) for v in (*orientation6, *(normal if normal is not None else (0.0, 0.0, 1.0))))
    origin = tuple(image.position_xyz or (0.0, 0.0, 0.0))
    location = image.slice_location_tag
    if location is None:
        location = plane_position(image) or 0.0
    center, width = _first(image.extra.get("WindowCenter")), _first(image.extra.get("WindowWidth"))
    window = (center, width) if center is not None and width else None
    return Pix(
        np.ascontiguousarray(data),
        (float(spacing[0]), float(spacing[1])),
        (float(origin[0]), float(origin[1]), float(origin[2])),
        orientation,
        float(location),
        image.path,
        image.id,
        image.series_id,
        study_id,
        window,
    )


@dataclass(eq=False)
class Roi:
    """An ROI on one plane of a viewer. ``points`` are (x = column, y = row); ``mask`` is the full
    plane's boolean map for brush (tPlain) ROIs."""

    itype: int
    name: str
    viewer: Viewer
    frame: int
    slice: int
    points: np.ndarray
    mask: np.ndarray | None = None
    color: tuple[int, int, int] = (0, 255, 0)
    opacity: float = 1.0
    thickness: float = 1.0
    selected: bool = False
    deleted: bool = False

    @property
    def pix(self) -> Pix:
        return self.viewer.frames[self.frame][self.slice]

    def pixel_map(self, rows: int | None = None, columns: int | None = None) -> np.ndarray:
        """Boolean map of the pixels of the plane the ROI covers."""
        rows = rows or self.pix.rows
        columns = columns or self.pix.columns
        if self.mask is not None:
            out = np.zeros((rows, columns), dtype=bool)
            r, c = min(rows, self.mask.shape[0]), min(columns, self.mask.shape[1])
            out[:r, :c] = self.mask[:r, :c]
            return out
        if self.itype in CLOSED_TYPES:
            return geometry.polygon_mask(self.points, rows, columns)
        return _line_map(self.points, rows, columns, closed=False)

    def area_cm2(self) -> float:
        """Area in cm2: pixel area x row spacing x column spacing / 100 (0 for lines and points)."""
        spacing_rows, spacing_columns = self.pix.spacing
        if self.mask is not None:
            pixels = float(self.mask.sum())
        elif self.itype in CLOSED_TYPES:
            pixels = geometry.polygon_area(self.points)
        else:
            return 0.0
        return pixels * spacing_rows * spacing_columns / 100.0

    def centroid(self) -> tuple[float, float]:
        """Mean of the vertices (of the covered pixels for a brush ROI)."""
        if self.mask is not None:
            rows, columns = np.nonzero(self.mask)
            if rows.size == 0:
                return (0.0, 0.0)
            return (float(columns.mean()), float(rows.mean()))
        if len(self.points) == 0:
            return (0.0, 0.0)
        return (float(self.points[:, 0].mean()), float(self.points[:, 1].mean()))


def _line_map(points: np.ndarray, rows: int, columns: int, closed: bool) -> np.ndarray:
    """Pixels touched by a polyline (sampled every half pixel, rounded to the nearest pixel)."""
    out = np.zeros((rows, columns), dtype=bool)
    if len(points) == 0:
        return out
    path = np.vstack([points, points[:1]]) if closed else points
    samples = [path[:1]]
    for start, end in zip(path[:-1], path[1:], strict=True):
        steps = max(1, int(math.ceil(np.hypot(*(end - start)) * 2)))
        t = np.linspace(0, 1, steps + 1)[1:, None]
        samples.append(start + (end - start) * t)
    coords = np.rint(np.vstack(samples)).astype(int)
    ok = (coords[:, 0] >= 0) & (coords[:, 0] < columns) & (coords[:, 1] >= 0) & (coords[:, 1] < rows)
    out[coords[ok, 1], coords[ok, 0]] = True
    return out


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
        return len(self.frames[0])

    def all_rois(self, frame: int | None = None) -> list[Roi]:
        """ROIs of one frame (all frames when None), slice by slice."""
        frames = range(len(self.frames)) if frame is None else [frame]
        return [roi for f in frames for plane in self.rois[f] for roi in plane]

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
    """A 3D window's volume built from the ROIs that share ``name`` across slices."""

    vr: VRController
    name: str
    color: tuple[float, float, float]
    opacity: float = 1.0
    factor: float = 1.0
    texture: bool = True
    visible: bool = False

    def rois(self) -> list[Roi]:
        viewer = self.vr.viewer
        return [r for r in viewer.all_rois(viewer.movie_idx) if r.name == self.name and r.itype in CLOSED_TYPES]

    def volume_cm3(self) -> float:
        """Sum over slices of the ROI areas (cm2) x the slice interval (cm).

        OsiriX meshes the contours and measures the mesh; stacking the areas over the slice
        interval is the same integral without the surface interpolation (our choice).
        """
        interval_mm = slice_interval(self.vr.viewer.frames[self.vr.viewer.movie_idx])
        return sum(r.area_cm2() for r in self.rois()) * interval_mm / 10.0


def slice_interval(planes: list[Pix]) -> float:
    """Distance between consecutive planes along the normal (mm), 1 for a single plane."""
    if len(planes) < 2:
        return 1.0
    normal = np.asarray(planes[0].orientation[6:9])
    positions = [float(np.dot(np.asarray(p.origin), normal)) for p in planes]
    return float(abs(positions[1] - positions[0])) or 1.0


@dataclass(eq=False)
class VRController:
    """A 3D window opened from a 2D viewer."""

    viewer: Viewer
    mode: str
    wl: float
    ww: float
    style: str = "standard"
    volumes: dict[str, RoiVolume] = field(default_factory=dict)
    closed: bool = False

    def title(self) -> str:
        """``3D Reconstruction: <series description>``, marked when the data are 4D."""
        text = f"3D Reconstruction: {self.viewer.series_description}"
        return text + " (4D)" if len(self.viewer.frames) > 1 else text

    def roi_volumes(self) -> list[RoiVolume]:
        """One ROIVolume per ROI name present on several slices (kept, so uids are stable)."""
        by_name: dict[str, set[int]] = {}
        for roi in self.viewer.all_rois(self.viewer.movie_idx):
            if roi.itype in CLOSED_TYPES:
                by_name.setdefault(roi.name, set()).add(roi.slice)
        for name, slices in by_name.items():
            if len(slices) > 1 and name not in self.volumes:
                first = next(r for r in self.viewer.all_rois(self.viewer.movie_idx) if r.name == name)
                self.volumes[name] = RoiVolume(self, name, tuple(c / 255.0 for c in first.color))  # type: ignore[arg-type]
        return [v for name, v in self.volumes.items() if name in by_name and len(by_name[name]) > 1]


class Workspace:
    """The open windows, in opening order; the frontmost is the last one brought forward."""

    def __init__(self) -> None:
        self.viewers: list[Viewer] = []
        self.lock = threading.RLock()
        self._front: Viewer | None = None
        self._front_vr: VRController | None = None

    def add(self, viewer: Viewer) -> Viewer:
        with self.lock:
            self.viewers.append(viewer)
            self._front = viewer
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
            if self._front is viewer:
                self._front = self.viewers[-1] if self.viewers else None
            if self._front_vr is not None and self._front_vr.closed:
                vrs = self.displayed_vr()
                self._front_vr = vrs[-1] if vrs else None
            return gone

    def frontmost(self) -> Viewer | None:
        return self._front

    def displayed(self) -> list[Viewer]:
        return list(self.viewers)

    def add_vr(self, vr: VRController) -> VRController:
        with self.lock:
            vr.viewer.vr_controllers.append(vr)
            self._front_vr = vr
        return vr

    def bring_to_front(self, window: Viewer | VRController) -> None:
        """Make an open 2D viewer or 3D window the frontmost of its kind (the user clicked it)."""
        with self.lock:
            if isinstance(window, VRController):
                if not window.closed:
                    self._front_vr = window
            elif window in self.viewers:
                self._front = window

    def frontmost_vr(self) -> VRController | None:
        return self._front_vr

    def displayed_vr(self) -> list[VRController]:
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
    )

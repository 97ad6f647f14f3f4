"""What the page shows of OsiriX, read through the OsiriXgrpc protocol (real or embedded OsiriX).

Every method makes plain OsiriXgrpc calls with :class:`osirix_tasks.client.Connection`; nothing
here reaches into the embedded host's memory, so the same views show a real OsiriX.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from osirixgrpc import (
    browsercontroller_pb2,
    dcmpix_pb2,
    types_pb2,
    utilities_pb2,
    viewercontroller_pb2,
    vrcontroller_pb2,
)

from ..client import Connection
from ..client.viewer_tools import DEFAULT_ROI_COLOR
from ..errors import OsirixError

__all__ = ["OsirixReader", "CLOSED_ROI_TYPES", "ROI_TYPE_NAMES"]

_EMPTY = utilities_pb2.Empty()
#: OsiriX's ROI tool numbers and their names (the types that enclose an area have statistics).
ROI_TYPE_NAMES = {
    5: "Measure",
    6: "Rectangle",
    9: "Oval",
    10: "Open polygon",
    11: "Closed polygon",
    12: "Angle",
    13: "Text",
    14: "Arrow",
    15: "Pencil",
    19: "Point",
    20: "Brush (mask)",
    24: "Layer",
    26: "Axis",
    27: "Dynamic angle",
    29: "TAGT",
    31: "Oval angle",
}
CLOSED_ROI_TYPES = {6, 9, 11, 15, 20, 24, 31}
MASK_ROI_TYPE = 20


def _date(answer: Any) -> str | None:
    if not answer.year:
        return None
    return f"{answer.year:04d}-{answer.month:02d}-{answer.day:02d} {answer.hour:02d}:{answer.minute:02d}"


class OsirixReader:
    """One channel to the OsiriX at ``address()`` (reopened when the address changes)."""

    def __init__(self, address: Callable[[], str]):
        self._address = address
        self._lock = threading.Lock()
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        """The connection to the current target."""
        address = self._address()
        with self._lock:
            if self._connection is None or self._connection.address != address:
                if self._connection is not None:
                    self._connection.close()
                self._connection = Connection(address)
            return self._connection

    def call(self, rpc: str, request: Any) -> Any:
        """One call; OsirixError with OsiriX's message on status 0."""
        return self.connection.call(rpc, request)

    def _maybe(self, rpc: str, request: Any) -> Any | None:
        try:
            return self.call(rpc, request)
        except OsirixError:
            return None

    def _field(self, rpc: str, request: Any, name: str, default: Any = "") -> Any:
        """One field of an answer, or ``default`` when OsiriX does not have the value (status 0)."""
        answer = self._maybe(rpc, request)
        return getattr(answer, name) if answer is not None else default

    # --- database ----------------------------------------------------------------------------

    def browser(self) -> Any:
        """The database browser reference."""
        return self.call("OsirixCurrentBrowser", _EMPTY).browser_controller

    def selection(self) -> tuple[set[str], set[str]]:
        """The uids of the selected studies and series."""
        answer = self.call("BrowserControllerDatabaseSelection", self.browser())
        return {s.osirixrpc_uid for s in answer.studies}, {s.osirixrpc_uid for s in answer.series}

    def series_info(self, series: Any) -> dict[str, Any]:
        """One series as the browser lists it."""
        date = self._maybe("DicomSeriesDate", series)
        return {
            "uid": series.osirixrpc_uid,
            "series_uid": self.call("DicomSeriesSeriesInstanceUID", series).series_instance_uid,
            "description": self._field("DicomSeriesSeriesDescription", series, "series_description"),
            "modality": self._field("DicomSeriesModality", series, "modality"),
            "date": _date(date) if date else None,
            "images": self._field("DicomSeriesNumberOfImages", series, "number_of_images", 0),
        }

    def studies(self) -> list[dict[str, Any]]:
        """Every study with its series, in the browser's order, with the selection."""
        studies = self.call("BrowserControllerDatabaseStudies", self.browser()).studies
        selected_studies, selected_series = self.selection()
        out = []
        for study in studies:
            date = self._maybe("DicomStudyDate", study)
            series = [self.series_info(s) for s in self.call("DicomStudySeries", study).series]
            for item in series:
                item["selected"] = item["uid"] in selected_series
            out.append(
                {
                    "uid": study.osirixrpc_uid,
                    "study_uid": self.call("DicomStudyStudyInstanceUID", study).study_instance_uid,
                    "patient": self._field("DicomStudyName", study, "name"),
                    "patient_id": self._field("DicomStudyPatientID", study, "patient_id"),
                    "description": self._field("DicomStudyStudyName", study, "study_name"),
                    "date": _date(date) if date else None,
                    "modality": self._field("DicomStudyModalities", study, "modalities"),
                    "images": self._field("DicomStudyNumberOfImages", study, "no_images", 0),
                    "selected": study.osirixrpc_uid in selected_studies,
                    "series": series,
                }
            )
        return out

    def sorted_images(self, series_uid: str) -> list[Any]:
        """A series' images in OsiriX's display order."""
        series = types_pb2.DicomSeries(osirixrpc_uid=series_uid)
        return list(self.call("DicomSeriesSortedImages", series).sorted_images)

    def thumbnail(self, series_uid: str, size: int = 64) -> tuple[int, int, bytes]:
        """The middle image of a series as the viewer shows it, shrunk to at most ``size`` pixels a
        side: rows, columns, RGBA bytes. Read from the image's file (``DicomImageCompletePath``), as
        OsiriX's browser makes its icons (see :mod:`.thumbnails`)."""
        from .thumbnails import thumbnail_of

        images = self.sorted_images(series_uid)
        if not images:
            raise OsirixError("DicomSeriesSortedImages", "the series has no images")
        path = self.call("DicomImageCompletePath", images[len(images) // 2]).complete_path
        return thumbnail_of(path, size)

    def import_files(self, paths: list[str]) -> None:
        """Copy files into the database (OsiriX imports them in the background)."""
        request = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(browser=self.browser(), paths=paths)
        self.call("BrowserControllerCopyFilesIfNeeded", request)

    def open_series(self, series_uid: str) -> str:
        """Open a series in a 2D viewer, as a double-click in the browser does; returns the viewer's uid."""
        frames = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(
            images=self.sorted_images(series_uid)
        )
        request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
            browser=self.browser(), frames=[frames], movie=False
        )
        return str(self.call("BrowserControllerOpenViewerFromImages", request).viewer.osirixrpc_uid)

    # --- 2D viewers ----------------------------------------------------------------------------

    def viewers(self) -> dict[str, Any]:
        """The open 2D viewers with their titles, and the frontmost one."""
        viewers = self.call("OsirixDisplayed2DViewers", _EMPTY).viewer_controllers
        front = self._maybe("OsirixFrontmostViewer", _EMPTY)
        return {
            "viewers": [
                {"uid": v.osirixrpc_uid, "title": self.call("ViewerControllerTitle", v).title} for v in viewers
            ],
            "frontmost": front.viewer_controller.osirixrpc_uid if front else None,
        }

    def viewer(self, uid: str) -> dict[str, Any]:
        """A viewer's display state and the DCMPix uids of each frame (slices in display order)."""
        ref = types_pb2.ViewerController(osirixrpc_uid=uid)
        frames = self.call("ViewerControllerMaxMovieIdx", ref).max_movie_idx
        pix = []
        for movie_idx in range(max(1, frames)):
            request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=ref, movie_idx=movie_idx)
            pix.append([p.osirixrpc_uid for p in self.call("ViewerControllerPixList", request).pix])
        wlww = self.call("ViewerControllerWLWW", ref)
        first = types_pb2.DCMPix(osirixrpc_uid=pix[0][0])
        shape = self.call("DCMPixShape", first)
        spacing = self.call("DCMPixSpacing", first)
        return {
            "uid": uid,
            "title": self.call("ViewerControllerTitle", ref).title,
            "modality": self.call("ViewerControllerModality", ref).modality,
            "idx": self.call("ViewerControllerIdx", ref).idx,
            "movie_idx": self.call("ViewerControllerMovieIdx", ref).movie_idx,
            "wl": wlww.wl,
            "ww": wlww.ww,
            "pix": pix,
            "rows": shape.rows,
            "columns": shape.columns,
            "spacing": [spacing.spacing_rows, spacing.spacing_columns],
        }

    def set_viewer(
        self,
        uid: str,
        *,
        idx: int | None = None,
        movie_idx: int | None = None,
        wl: float | None = None,
        ww: float | None = None,
    ) -> None:
        """Change what the viewer displays: slice, movie frame, WL/WW."""
        ref = types_pb2.ViewerController(osirixrpc_uid=uid)
        if movie_idx is not None:
            request = viewercontroller_pb2.ViewerControllerSetMovieIdxRequest(
                viewer_controller=ref, movie_idx=movie_idx
            )
            self.call("ViewerControllerSetMovieIdx", request)
        if idx is not None:
            self.call(
                "ViewerControllerSetIdx",
                viewercontroller_pb2.ViewerControllerSetIdxRequest(viewer_controller=ref, idx=idx),
            )
        if wl is not None and ww is not None:
            request = viewercontroller_pb2.ViewerControllerSetWLWWRequest(viewer_controller=ref, wl=wl, ww=ww)
            self.call("ViewerControllerSetWLWW", request)

    def close_viewer(self, uid: str) -> None:
        """Close a 2D viewer."""
        self.call("ViewerControllerCloseViewer", types_pb2.ViewerController(osirixrpc_uid=uid))

    def pixels(self, pix_uid: str) -> np.ndarray:
        """A plane's pixels: float32 (rows, columns), or ARGB uint8 (rows, columns, 4)."""
        return self.connection.pixels(types_pb2.DCMPix(osirixrpc_uid=pix_uid))

    def pixel_digest(self, pix_uid: str) -> str:
        """A short hash of a plane's pixels (the page redraws when it changes)."""
        return hashlib.blake2b(self.pixels(pix_uid).tobytes(), digest_size=8).hexdigest()

    # --- ROIs --------------------------------------------------------------------------------------

    def rois(self, viewer_uid: str, movie_idx: int, idx: int) -> list[dict[str, Any]]:
        """The ROIs on one plane with everything the viewer draws and measures."""
        ref = types_pb2.ViewerController(osirixrpc_uid=viewer_uid)
        request = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=ref, movie_idx=movie_idx)
        slices = self.call("ViewerControllerROIList", request).roi_slices
        if not 0 <= idx < len(slices):
            return []
        selected = {r.osirixrpc_uid for r in self.call("ViewerControllerSelectedROIs", ref).rois}
        return [self.roi(roi, selected=roi.osirixrpc_uid in selected) for roi in slices[idx].rois]

    def roi(self, roi: Any, *, selected: bool = False) -> dict[str, Any]:
        """One ROI: type, name, colour, points, area (cm2) and, for closed types, the mean inside."""
        itype = self.call("ROIIType", roi).itype
        color = self.call("ROIColor", roi)
        info: dict[str, Any] = {
            "uid": roi.osirixrpc_uid,
            "itype": itype,
            "kind": ROI_TYPE_NAMES.get(itype, f"type {itype}"),
            "name": self.call("ROIName", roi).name,
            "color": [color.r, color.g, color.b],
            "opacity": self.call("ROIOpacity", roi).opacity,
            "thickness": self.call("ROIThickness", roi).thickness,
            "points": [[p.x, p.y] for p in self.call("ROIPoints", roi).points],
            "selected": selected,
            "area": None,
            "mean": None,
            "mask": None,
        }
        if itype in CLOSED_ROI_TYPES:
            pix = self.call("ROIPix", roi).pix
            info["area"] = self.call("ROIArea", roi).area
            stats = self._maybe("DCMPixComputeROI", dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=roi))
            info["mean"] = stats.mean if stats else None
            if itype == MASK_ROI_TYPE:
                answer = self.call("DCMPixGetMapFromROI", dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=pix, roi=roi))
                bits = np.packbits(np.asarray(answer.map, dtype=bool))
                info["mask"] = {
                    "rows": answer.rows,
                    "columns": answer.columns,
                    "bits": base64.b64encode(bits.tobytes()).decode("ascii"),
                }
        return info

    def new_roi(
        self,
        viewer_uid: str,
        *,
        itype: int,
        movie_idx: int,
        idx: int,
        name: str,
        points: list[list[float]] | None = None,
        rect: list[float] | None = None,
        color: list[int] | None = None,
    ) -> dict[str, Any]:
        """Create an ROI on a plane (``points`` for point types, ``rect`` = x, y, width, height otherwise)."""
        request_type = viewercontroller_pb2.ViewerControllerNewROIRequest
        request = request_type(
            viewer_controller=types_pb2.ViewerController(osirixrpc_uid=viewer_uid),
            itype=itype,
            name=name,
            idx=idx,
            movie_idx=movie_idx,
            thickness=2.0,
            opacity=1.0,
        )
        r, g, b = color if color is not None else DEFAULT_ROI_COLOR
        request.color.CopyFrom(request_type.Color(r=r, g=g, b=b))
        if points is not None:
            request.points.extend(request_type.Point2D(x=float(x), y=float(y)) for x, y in points)
        if rect is not None:
            x, y, width, height = (float(v) for v in rect)
            request.rectangle.CopyFrom(request_type.Rect(origin_x=x, origin_y=y, width=width, height=height))
        roi = self.call("ViewerControllerNewROI", request).roi
        return self.roi(roi)

    def delete_roi(self, uid: str) -> None:
        """Delete an ROI."""
        self.call("ROIDelete", types_pb2.ROI(osirixrpc_uid=uid))

    # --- 3D windows ------------------------------------------------------------------------------

    def open_vr(self, viewer_uid: str, mode: str) -> str:
        """Open a 3D window (``VR`` or ``MIP``) on a viewer's data; returns its uid."""
        request = viewercontroller_pb2.ViewerControllerOpenVRViewerForModeRequest(
            viewer_controller=types_pb2.ViewerController(osirixrpc_uid=viewer_uid), mode=mode
        )
        return str(self.call("ViewerControllerOpenVRViewerForMode", request).vr_controller.osirixrpc_uid)

    def vr_windows(self) -> dict[str, Any]:
        """The open 3D windows with their titles, and the frontmost one."""
        vrs = self.call("OsirixDisplayedVRControllers", _EMPTY).vr_controllers
        front = self._maybe("OsirixFrontmostVRController", _EMPTY)
        return {
            "windows": [{"uid": v.osirixrpc_uid, "title": self.call("VRControllerTitle", v).title} for v in vrs],
            "frontmost": front.vr_controller.osirixrpc_uid if front else None,
        }

    def vr(self, uid: str) -> dict[str, Any]:
        """A 3D window's title, rendering mode, WL/WW and 2D viewer."""
        ref = types_pb2.VRController(osirixrpc_uid=uid)
        wlww = self.call("VRControllerWLWW", ref)
        return {
            "uid": uid,
            "title": self.call("VRControllerTitle", ref).title,
            "mode": self.call("VRControllerRenderingMode", ref).rendering_mode,
            "wl": wlww.wl,
            "ww": wlww.ww,
            "viewer": self.call("VRControllerViewer2D", ref).viewer_controller.osirixrpc_uid,
        }

    def set_vr(self, uid: str, *, mode: str | None = None, wl: float | None = None, ww: float | None = None) -> None:
        """Change a 3D window's rendering mode or WL/WW."""
        ref = types_pb2.VRController(osirixrpc_uid=uid)
        if mode is not None:
            request = vrcontroller_pb2.VRControllerSetRenderingModeRequest(vr_controller=ref, rendering_mode=mode)
            self.call("VRControllerSetRenderingMode", request)
        if wl is not None and ww is not None:
            self.call(
                "VRControllerSetWLWW", vrcontroller_pb2.VRControllerSetWLWWRequest(vr_controller=ref, wl=wl, ww=ww)
            )

    def volume(self, viewer_uid: str) -> tuple[np.ndarray, tuple[float, float, float]]:
        """The current frame of a viewer as a (slices, rows, columns) float32 volume and its voxel
        size in mm (slice interval along the normal, row spacing, column spacing)."""
        ref = types_pb2.ViewerController(osirixrpc_uid=viewer_uid)
        movie_idx = self.call("ViewerControllerMovieIdx", ref).movie_idx
        request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=ref, movie_idx=movie_idx)
        pixes = list(self.call("ViewerControllerPixList", request).pix)
        volume = self.connection.volume(pixes)
        if volume.ndim == 4:  # ARGB: the mean of R, G, B
            volume = volume[..., 1:4].mean(axis=3).astype(np.float32)
        spacing = self.call("DCMPixSpacing", pixes[0])
        interval = 1.0
        if len(pixes) > 1:
            normal = np.asarray(self.call("DCMPixOrientation", pixes[0]).orientation[6:9], dtype=np.float64)
            first, second = (self.call("DCMPixOrigin", p) for p in pixes[:2])
            step = np.array(
                [second.origin_x - first.origin_x, second.origin_y - first.origin_y, second.origin_z - first.origin_z]
            )
            interval = float(abs(np.dot(step, normal))) or 1.0
        return volume, (interval, float(spacing.spacing_rows) or 1.0, float(spacing.spacing_columns) or 1.0)

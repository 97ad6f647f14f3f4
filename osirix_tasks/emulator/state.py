"""The OsiriX state every server of a host shares: database, object cache, browser selection."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from osirixgrpc import types_pb2

from ..errors import OsirixError
from .cache import ObjectCache
from .changes import Changes
from .database.conventions import browser_order
from .database.import_queue import ImportJob, ImportQueue
from .database.importer import ImportSummary
from .database.index import Database, ImageRow, SeriesRow, StudyRow
from .roi_store.store import RoiStore
from .workspace import Pix, Roi, RoiVolume, Viewer, VRController, Workspace, open_viewer

__all__ = ["OsirixState", "BROWSER_KEY"]

log = logging.getLogger(__name__)
BROWSER_KEY = 0

#: The plugin's type name of each in-memory object class.
KIND_OF: dict[type, str] = {
    Viewer: "ViewerController",
    Pix: "DCMPix",
    Roi: "ROI",
    VRController: "VRController",
    RoiVolume: "ROIVolume",
}


class OsirixState:
    """What OsiriX holds while it runs. Thread-safe: every gRPC server thread calls into it."""

    def __init__(self, db: Database, *, save_rois: bool = True):
        self.db = db
        self.cache = ObjectCache()
        self.lock = threading.RLock()
        self.selected_studies: list[int] = []
        self.selected_series: list[int] = []
        self.imports = ImportQueue(db, on_done=self._import_done)
        self._had_studies = False  # whether the browser listed studies when the selection was last checked
        self.last_import: ImportSummary | None = None
        self.viewers = Workspace(on_settings_changed=lambda viewer: self.changes.touch(viewer, "display"))
        #: A change counter per viewer and 3D window, and for the windows and the browser (see :mod:`.changes`).
        self.changes = Changes()
        self._seen_data_version = db.data_version()
        #: ROIs kept with their study (loaded when a viewer opens, saved when they change).
        self.roi_store = RoiStore(db, self.lock, enabled=save_rois)

    # --- references --------------------------------------------------------------------

    def ref(self, kind: str, key: Hashable) -> Any:
        """The ``osirixgrpc`` reference message of an object (its cached uid)."""
        return getattr(types_pb2, kind)(osirixrpc_uid=self.cache.uid(kind, key))

    def key_of(self, ref: Any, kind: str) -> Hashable:
        """The key behind a reference of ``kind``; status 0 ``No <kind> cached`` otherwise."""
        uid = getattr(ref, "osirixrpc_uid", "")
        entry = self.cache.lookup(uid) if uid else None
        if entry is None or entry[0] != kind:
            raise OsirixError(f"No {kind} cached")
        return entry[1]

    def live(self, ref: Any, kind: str) -> Any:
        """The in-memory object (viewer, pix, ROI, 3D window, ROI volume) behind a reference."""
        obj = self.key_of(ref, kind)
        if (
            getattr(obj, "closed", False)
            or getattr(obj, "deleted", False)
            or (isinstance(obj, RoiVolume) and obj.vr.closed)
        ):
            self.cache.forget(kind, obj)
            raise OsirixError(f"No {kind} cached")
        return obj

    def forget(self, objects: Iterable[Any]) -> None:
        """Drop objects that are gone (closed viewer, deleted ROI ...) from the cache."""
        for obj in objects:
            kind = next(KIND_OF[c] for c in type(obj).__mro__ if c in KIND_OF)  # a lazy DCMPix is a Pix
            self.cache.forget(kind, obj)

    def browser(self, ref: Any) -> None:
        """Check a BrowserController reference."""
        self.key_of(ref, "BrowserController")

    def _row(self, ref: Any, kind: str, fetch: Callable[[int], Any]) -> Any:
        key = self.key_of(ref, kind)
        row = fetch(int(key))  # type: ignore[call-overload]
        if row is None:  # removed from the database since it was handed out
            self.cache.forget(kind, key)
            raise OsirixError(f"No {kind} cached")
        return row

    def study(self, ref: Any) -> StudyRow:
        """The study behind a DicomStudy reference."""
        return self._row(ref, "DicomStudy", self.db.study)

    def series(self, ref: Any) -> SeriesRow:
        """The series behind a DicomSeries reference."""
        return self._row(ref, "DicomSeries", self.db.series_row)

    def image(self, ref: Any) -> ImageRow:
        """The image behind a DicomImage reference."""
        return self._row(ref, "DicomImage", self.db.image)

    def open_viewer(self, frames_of_image_ids: list[list[int]], *, idx: int | None = None) -> Viewer:
        """Open a 2D viewer of these images (one list per movie frame) with their stored ROIs, showing
        slice ``idx`` (default: OsiriX's); it becomes the frontmost (Horos ``loadROI:`` when a viewer opens)."""
        viewer = open_viewer(self.db, frames_of_image_ids)
        if idx is not None:
            viewer.idx = idx
        if self.roi_store.load_into(viewer):
            self.changes.touch(viewer, "rois")  # the page shows the loaded ROIs with the new viewer
        return self.viewers.add(viewer)

    # --- the user's side: selection, imports ------------------------------------------------

    def select(self, studies: Iterable[int] = (), series: Iterable[int] = ()) -> None:
        """Set the browser selection (what the user clicked in the database window)."""
        with self.lock:
            self.selected_studies = list(dict.fromkeys(studies))
            self.selected_series = list(dict.fromkeys(series))
            self._had_studies = self.db.counts()[0] > 0
        self.changes.touch_state("browser")

    def notice_other_writers(self) -> None:
        """Count a commit to the database by anyone else since the last look as a browser change (the
        page then lists what another process imported or retrieved into the folder)."""
        version = self.db.data_version()
        if version != self._seen_data_version:
            self._seen_data_version = version
            self.changes.touch_state("browser")

    def selection(self) -> tuple[list[int], list[int]]:
        """The selected studies and series that still exist, as OsiriX's database window keeps them.

        The window is a table that keeps a selected row (Horos ``BrowserController.m``): when studies
        arrive in an empty database, or when everything selected goes away, the first study row of the
        browser becomes the selection. A selection the user cleared stays empty.
        """
        with self.lock:
            studies = [s for s in self.selected_studies if self.db.study(s) is not None]
            series = [s for s in self.selected_series if self.db.series_row(s) is not None]
            went_away = len(studies) + len(series) < len(self.selected_studies) + len(self.selected_series)
            has_studies = self.db.counts()[0] > 0
            arrived = has_studies and not self._had_studies
            if has_studies and not studies and not series and (arrived or went_away):
                studies, series = [browser_order(self.db)[0].id], []
            self.selected_studies, self.selected_series = studies, series
            self._had_studies = has_studies
            return list(studies), list(series)

    def import_in_background(self, paths: list[str]) -> ImportJob:
        """Copy files into the database on the bounded import pool, as OsiriX does for CopyFilesIfNeeded;
        the browser selection follows when the import is done."""
        return self.imports.submit(paths, copy=True)

    def _import_done(self, job: ImportJob) -> None:
        self.last_import = job.summary
        self.selection()
        self.changes.touch_state("browser")

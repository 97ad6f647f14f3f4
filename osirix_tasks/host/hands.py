"""The user's hands on the embedded OsiriX: what a click does that the OsiriXgrpc protocol cannot.

The protocol reads the browser selection but cannot set it, reads the selected ROIs but cannot
select one, cannot bring a window to the front, and imports without saying what came of it; a user
does those by clicking in OsiriX, or dropping files on its browser and reading what it says. Here
each is one control request (:mod:`.control_protocol`), carried out on the emulator's state in this
module only, whoever asks: the CLI and the test kit over the control channel, the page in the
host's own process (:meth:`Host.request <osirix_tasks.host.process.Host.request>`). Each records
its change in the state's change counters, so the page sees it.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._support.paths import remove_upload
from .._support.text import plural
from ..emulator.database.conventions import sorted_images
from ..emulator.roi_selection import select_rois_named
from ..emulator.state import OsirixState
from ..errors import OsirixError
from .control_protocol import (
    BringToFront,
    Delete,
    DeselectRois,
    ImportInBackground,
    ImportOutcome,
    Open,
    Reply,
    Select,
    SelectRois,
    TextAnchors,
)

if TYPE_CHECKING:
    from ..emulator.database.import_queue import ImportJob

__all__ = ["Hands", "NO_VIEWER", "KEPT_IMPORTS"]

NO_VIEWER = "no viewer is open - open one first ('osirix-tasks open SERIES_UID')"
#: Background imports whose outcome is remembered (the oldest are forgotten first).
KEPT_IMPORTS = 32


class Hands:
    """The control requests that act as the user's clicks, on one emulator state."""

    def __init__(self, state: OsirixState):
        self.state = state
        self._imports: OrderedDict[int, ImportJob] = OrderedDict()
        self._import_keys = itertools.count(1)
        self._imports_lock = threading.Lock()

    def handlers(self) -> dict[type, Callable[[Any], Reply]]:
        """Request type -> handler, for the host's dispatch table."""
        return {
            Select: self.select,
            Delete: self.delete,
            Open: self.open,
            SelectRois: self.select_rois,
            DeselectRois: self.deselect_rois,
            BringToFront: self.bring_to_front,
            TextAnchors: self.text_anchors,
            ImportInBackground: self.import_in_background,
            ImportOutcome: self.import_outcome,
        }

    def _object(self, uid: str, kind: str) -> Any:
        entry = self.state.cache.lookup(uid)
        if (
            entry is None
            or entry[0] != kind
            or getattr(entry[1], "closed", False)
            or getattr(entry[1], "deleted", False)
        ):
            return None
        return entry[1]

    def _rows_of(self, studies: list[str], series: list[str]) -> tuple[list[int], list[int]] | Reply:
        """Database ids of studies and series named by their DICOM UIDs, or a refusal naming the first unknown."""
        db = self.state.db
        study_ids: list[int] = []
        series_ids: list[int] = []
        for uid in studies:
            row = db.find_study(uid)
            if row is None:
                return Reply(ok=False, message=f"no study with StudyInstanceUID {uid} in the database")
            study_ids.append(row.id)
        for uid in series:
            rows = db.find_series(uid)
            if not rows:
                return Reply(ok=False, message=f"no series with SeriesInstanceUID {uid} in the database")
            series_ids.extend(r.id for r in rows)
        return study_ids, series_ids

    def select(self, request: Select) -> Reply:
        """Set the database browser's selection by StudyInstanceUID / SeriesInstanceUID."""
        found = self._rows_of(request.studies, request.series)
        if isinstance(found, Reply):
            return found
        studies, series = found
        self.state.select(studies, series)
        return Reply(ok=True, message=f"selected {plural(len(studies), 'study', 'studies')} and {len(series)} series")

    def delete(self, request: Delete) -> Reply:
        """Delete from the database, as OsiriX's Delete does: the viewers showing what goes close first,
        the files the database copied go with it; the selection follows OsiriX's rule."""
        found = self._rows_of(request.studies, request.series)
        if isinstance(found, Reply):
            return found
        studies, series = found
        if not studies and not series:
            return Reply(ok=False, message="nothing to delete - name studies or series")
        db = self.state.db
        doomed = set(series) | {r.id for s in studies for r in db.series_of(s)}
        with self.state.lock:
            for viewer in self.state.viewers.displayed():
                if any(p.series_id in doomed for frame in viewer.frames for p in frame):
                    self.state.forget(self.state.viewers.close(viewer))
            counts = db.delete(studies, series)
        self.state.changes.touch_state("windows")
        self.state.changes.touch_state("browser")
        self.state.selection()  # what was selected and went away: OsiriX selects the first study
        gone = ", ".join([plural(counts[0], "study", "studies"), f"{counts[1]} series", plural(counts[2], "image")])
        data = dict(zip(("studies", "series", "images"), counts, strict=True))
        return Reply(ok=True, message=f"deleted {gone}", data=data)

    def open(self, request: Open) -> Reply:
        """Open a viewer on a series, as a double-click in the browser does (frames: a 4D copy)."""
        db = self.state.db
        rows = db.find_series(request.series)
        if not rows:
            return Reply(ok=False, message=f"no series with SeriesInstanceUID {request.series} in the database")
        ids = [i.id for i in sorted_images(db.images_of(rows[0].id))]
        if request.slice is not None and not 0 <= request.slice < len(ids):  # said as OsiriX numbers images
            return Reply(
                ok=False, message=f"image {request.slice + 1} is out of range: the series has images 1-{len(ids)}"
            )
        viewer = self.state.open_viewer([ids] * request.frames, idx=request.slice)
        self.state.changes.touch_state("windows")
        uid = self.state.cache.uid("ViewerController", viewer)
        shown = f", showing image {viewer.idx + 1}" if request.slice is not None else ""
        return Reply(
            ok=True,
            message=f"opened a viewer of {len(ids)} slice(s) x {request.frames} frame(s){shown}: {viewer.title()}",
            data={"viewer": uid},
        )

    def select_rois(self, request: SelectRois) -> Reply:
        """Select ROIs by name in the frontmost viewer, or exactly the given ones of a viewer."""
        if request.uids is not None or request.viewer is not None:
            return self._select_uids(request.viewer, request.uids or [])
        if request.name is None:
            return Reply(ok=False, message="name the ROIs to select, or give a viewer and ROI uids")
        viewer = self.state.viewers.frontmost()
        if viewer is None:
            return Reply(ok=False, message=NO_VIEWER)
        with self.state.lock:
            try:  # on the displayed slice, as OsiriX selects (showing another slice first when needed)
                done = select_rois_named(viewer, request.name, request.slice)
            except OsirixError as exc:
                return Reply(ok=False, message=exc.message)
        self.state.changes.touch(viewer, "rois")
        if done.moved:
            self.state.changes.touch(viewer, "display")
        return Reply(ok=True, message=done.message())

    def _select_uids(self, viewer_uid: str | None, uids: list[str]) -> Reply:
        viewer = self._object(viewer_uid or "", "ViewerController")
        if viewer is None:
            return Reply(ok=False, message=f"no viewer {viewer_uid} in this OsiriX (it was closed) - reload the view")
        wanted = []
        for uid in uids:
            roi = self._object(uid, "ROI")
            if roi is None or roi.viewer is not viewer:
                return Reply(ok=False, message=f"no ROI {uid} in that viewer (it was deleted) - reload the view")
            wanted.append(roi)
        with self.state.lock:
            for roi in viewer.all_rois():
                roi.selected = any(roi is w for w in wanted)
        self.state.changes.touch(viewer, "rois")
        return Reply(ok=True, message=f"selected {len(wanted)} ROI(s)")

    def deselect_rois(self, request: DeselectRois) -> Reply:
        """Deselect every ROI of the frontmost viewer."""
        viewer = self.state.viewers.frontmost()
        if viewer is None:
            return Reply(ok=False, message=NO_VIEWER)
        with self.state.lock:
            selected = [roi for roi in viewer.all_rois() if roi.selected]
            for roi in selected:
                roi.selected = False
        self.state.changes.touch(viewer, "rois")
        return Reply(ok=True, message=f"deselected {len(selected)} ROI(s)")

    def bring_to_front(self, request: BringToFront) -> Reply:
        """Make a 2D viewer or 3D window the frontmost of its kind."""
        window = self._object(request.uid, request.kind)
        if window is None:
            return Reply(
                ok=False, message=f"no {request.kind} {request.uid} in this OsiriX (it was closed) - reload the view"
            )
        self.state.viewers.bring_to_front(window)
        self.state.changes.touch_state("windows")
        return Reply(ok=True, message="brought to the front")

    def text_anchors(self, request: TextAnchors) -> Reply:
        """The rect origin of each text ROI named (ROIs of other kinds, or gone, are left out)."""
        anchors = {}
        for uid in request.uids:
            roi = self._object(uid, "ROI")
            if roi is not None and roi.rect is not None:
                anchors[uid] = [float(roi.rect[0]), float(roi.rect[1])]
        return Reply(ok=True, message=f"{len(anchors)} anchor(s)", data=anchors)

    def import_in_background(self, request: ImportInBackground) -> Reply:
        """Import files and folders on the import queue, as dropping them on the browser does; the
        reply's ``import`` is the number its outcome is asked by. Files of ``discard`` in the uploads
        folder are deleted when the import ends (ImportQueueFull refuses when too many wait)."""
        job = self.state.import_in_background(list(request.paths))
        discard = [p for p in request.discard if p in request.paths]
        if discard and job.future is not None:
            job.future.add_done_callback(lambda _: _remove_uploads(discard))
        with self._imports_lock:
            key = next(self._import_keys)
            self._imports[key] = job
            while len(self._imports) > KEPT_IMPORTS:
                self._imports.popitem(last=False)
        return Reply(ok=True, message=f"importing {len(request.paths)} path(s)", data={"import": key})

    def import_outcome(self, request: ImportOutcome) -> Reply:
        """Whether import ``key`` is done and, once done, its summary: counts and the CLI's words."""
        with self._imports_lock:
            job = self._imports.get(request.key)
        if job is None:
            return Reply(
                ok=False, message=f"no import {request.key} - it is too old to remember; look at the database list"
            )
        if job.future is None or not job.future.done():
            done, total = job.progress  # files read so far of those found
            return Reply(
                ok=True, message="importing", data={"done": False, "paths": job.paths, "read": done, "total": total}
            )
        summary = job.summary
        if summary is None:
            return Reply(ok=True, message="the import failed", data={"done": True, "failed": True, "paths": job.paths})
        return Reply(
            ok=True,
            message=str(summary),
            data={
                "done": True,
                "failed": False,
                "paths": job.paths,
                "imported": summary.imported,
                "already_present": summary.already_present,
                "skipped": len(summary.skipped),
                "summary": str(summary),
            },
        )


def _remove_uploads(paths: list[str]) -> None:
    """Delete the page's uploads among ``paths`` once their import is done (other files are kept)."""
    for path in paths:
        remove_upload(path)

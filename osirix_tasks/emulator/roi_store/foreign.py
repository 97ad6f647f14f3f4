"""SR and SEG objects made elsewhere (3D Slicer, OHIF, highdicom ...), shown as ROIs on the images
they reference. Each object is read once per host (again when its file changes); one that cannot
be read, or references none of our images, is reported (file and reason) and skipped."""

from __future__ import annotations

import logging
import threading
from collections import deque
from pathlib import Path

from ...roidicom.objects import ForeignRois, read_object
from ...roidicom.records import PlaneKey
from ..database.index import Database, ImageRow
from .catalog import study_objects
from .layout import ROI_FOLDER

__all__ = ["ForeignObjects"]

log = logging.getLogger(__name__)
#: Problems kept for the user to see (the oldest go first).
MAX_PROBLEMS = 200


class ForeignObjects:
    """The objects of each study that hold ROIs and are not our own store's, read and cached."""

    def __init__(self, db: Database):
        self.db = db
        self._own = (db.files_folder / ROI_FOLDER).resolve()
        self._cache: dict[str, tuple[tuple[int, int], ForeignRois | None]] = {}
        self._lock = threading.Lock()
        self.problems: deque[str] = deque(maxlen=MAX_PROBLEMS)

    def _is_own(self, row: ImageRow) -> bool:
        return Path(row.path).resolve().is_relative_to(self._own)

    def _load(self, row: ImageRow) -> ForeignRois | None:
        path = Path(row.path)
        try:
            stat = path.stat()
        except OSError as exc:
            self._problem(row.path, f"missing ({exc.strerror})")
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(row.path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        found: ForeignRois | None = None
        try:
            found = read_object(path)
        except ValueError as exc:
            self._problem(row.path, str(exc))
        with self._lock:
            self._cache[row.path] = (stamp, found)
        return found

    def _problem(self, path: str, reason: str) -> None:
        message = f"{path}: {reason} - skipped"
        log.warning("%s", message)
        self.problems.append(message)
        return None

    def for_study(self, study_id: int) -> list[ForeignRois]:
        """The ROIs of the study's objects made elsewhere (unreadable ones, and ones that reference no
        image of the database, reported and skipped)."""
        found = []
        known: set[PlaneKey] | None = None
        for row in study_objects(self.db, study_id):
            if self._is_own(row):
                continue
            with self._lock:
                seen = row.path in self._cache
            rois = self._load(row)
            if rois is None or not rois.planes:
                continue
            if known is None:
                known = {PlaneKey(i.sop_instance_uid, i.frame) for i in self.db.images_of_study(study_id)}
            if not any(key in known for key in rois.planes):
                if not seen:  # said once per object, not at every viewer opening
                    self._problem(row.path, "references no image of this database (its images were not imported)")
                continue
            found.append(rois)
        return found

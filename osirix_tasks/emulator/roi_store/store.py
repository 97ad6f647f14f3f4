"""The ROI store of a database: a viewer's ROIs are loaded when it opens and saved when they change
and when it closes, one image plane at a time, as OsiriX does (``saveROI:`` / ``loadROI:``).

OsiriX's rules, kept here: only planes read from the database are stored (a viewer copy's or a
resampled viewer's planes are *generated*: their ROIs are neither loaded nor saved); a plane is
written only when its ROIs differ from what was loaded or last saved (``areROIsArraysIdentical``),
so a second viewer on the same images does not overwrite the first one's changes with what it
loaded; a plane left without ROIs has its stored object removed. ROIs of objects made elsewhere
(SR, SEG) are shown on the planes they reference; once the user changes such a plane, its ROIs
are ours (the object is recorded as merged, and is not shown again on that plane).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...roidicom.evidence import source_header
from ...roidicom.records import PlaneKey, RoiRecord, SourceImage
from ...roidicom.sr import PlaneRois
from ..database.index import Database
from ..pix import Pix
from .foreign import ForeignObjects
from .layout import ROI_FOLDER, study_folder
from .planes import PlaneTarget, delete_plane, read_plane, write_plane
from .saver import Saver
from .snapshot import measure, record_of, roi_of

__all__ = ["RoiStore", "PlaneInfo", "Pending"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaneInfo:
    """What the store knows of a viewer plane read from the database."""

    key: PlaneKey
    path: str
    rows: int
    columns: int
    study_id: int
    study_uid: str


@dataclass
class Pending:
    """A plane's ROIs to write: taken under the state lock, written on the saver's thread."""

    viewer: Any
    plane: tuple[int, int]
    info: PlaneInfo
    records: list[RoiRecord]
    imported_from: list[str]
    fingerprint: bytes
    pix: Pix | None = None


@dataclass
class _ViewerMemory:
    """Per viewer: each plane's fingerprint as loaded or saved, and the objects merged into it."""

    saved: dict[tuple[int, int], bytes] = field(default_factory=dict)
    merged: dict[tuple[int, int], list[str]] = field(default_factory=dict)


def fingerprint(records: Iterable[RoiRecord]) -> bytes:
    """A digest of a plane's ROIs (two equal digests: nothing to write)."""
    digest = hashlib.blake2b(digest_size=20)
    for record in records:
        digest.update(record.fingerprint())
        digest.update(b"\1")
    return digest.digest()


_EMPTY = fingerprint([])


class RoiStore:
    """Loads and saves viewers' ROIs in ``db``; ``lock`` is the state lock that guards the viewers."""

    def __init__(self, db: Database, lock: Any, *, enabled: bool = True):
        self.db = db
        self.lock = lock
        self.enabled = enabled
        self.foreign = ForeignObjects(db)
        self._memory: weakref.WeakKeyDictionary[Any, _ViewerMemory] = weakref.WeakKeyDictionary()
        self._io = threading.RLock()  # one writer at a time (saver thread, restore)
        self.saver = Saver(self._save_viewers)

    # --- planes --------------------------------------------------------------------------

    def plane_info(self, pix: Pix) -> PlaneInfo | None:
        """The stored-ROI key of a plane read from the database; None for a generated plane."""
        if getattr(pix, "generated", False) or pix.image_id is None or pix.study_id is None:
            return None
        row = self.db.image(pix.image_id)
        study = self.db.study(pix.study_id)
        if row is None or study is None or not row.is_image:
            return None
        return PlaneInfo(
            PlaneKey(row.sop_instance_uid, row.frame),
            row.path,
            row.rows,
            row.columns,
            study.id,
            study.study_instance_uid,
        )

    def folder(self, study_uid: str) -> Path:
        """The folder of a study's stored ROIs."""
        return study_folder(self.db.files_folder, study_uid)

    def _memory_of(self, viewer: Any) -> _ViewerMemory:
        memory = self._memory.get(viewer)
        if memory is None:
            memory = self._memory[viewer] = _ViewerMemory()
        return memory

    # --- loading ----------------------------------------------------------------------------

    def stored(self, infos: list[PlaneInfo]) -> dict[PlaneKey, tuple[list[RoiRecord], list[str]]]:
        """The ROIs stored for these planes (ours, then those of objects made elsewhere that were not
        merged yet) and the objects they hold, by plane. Unreadable objects are reported and skipped."""
        found: dict[PlaneKey, tuple[list[RoiRecord], list[str]]] = {}
        foreign_by_study = {study: self.foreign.for_study(study) for study in {i.study_id for i in infos}}
        for info in infos:
            if info.key in found:
                continue
            try:
                own = read_plane(self.folder(info.study_uid), info.key)
            except ValueError as exc:
                self.foreign._problem(str(exc).split(": ", 1)[0], str(exc).split(": ", 1)[-1])
                own = None
            records = list(own.rois) if own is not None else []
            merged = list(own.imported_from) if own is not None else []
            for other in foreign_by_study[info.study_id]:
                if info.key in other.planes and other.sop_instance_uid not in merged:
                    shown = {_shape(r) for r in records}  # a task drew them too when it saved its SEG
                    records.extend(_copy(r) for r in other.planes[info.key] if _shape(r) not in shown)
                    merged.append(other.sop_instance_uid)
            found[info.key] = (records, merged)
        return found

    def load_into(self, viewer: Any) -> int:
        """Add the stored ROIs of each of ``viewer``'s database planes to it (``loadROI:``); the count."""
        if not self.enabled:
            return 0
        planes = [
            ((f, s), info)
            for f, frame in enumerate(viewer.frames)
            for s, pix in enumerate(frame)
            if (info := self.plane_info(pix)) is not None
        ]
        stored = self.stored([info for _, info in planes])
        memory = self._memory_of(viewer)
        count = 0
        with self.lock:
            for (f, s), info in planes:
                records, merged = stored.get(info.key, ([], []))
                rois = [roi_of(_copy(r), viewer, f, s) for r in records]
                viewer.rois[f][s].extend(rois)
                memory.saved[(f, s)] = fingerprint(record_of(r) for r in viewer.rois[f][s])
                memory.merged[(f, s)] = merged
                count += len(rois)
        return count

    # --- saving -------------------------------------------------------------------------------

    def changed(self, viewer: Any) -> None:
        """``viewer``'s ROIs changed: they are saved within a second."""
        if self.enabled and not getattr(viewer, "closed", False):
            self.saver.mark(viewer)

    def closing(self, viewer: Any) -> None:
        """``viewer`` is about to close: its changed planes are taken now and saved at once."""
        if not self.enabled:
            return
        pending = self.snapshot(viewer)
        self.saver.forget(viewer)
        if pending:
            self.saver.submit(lambda: self._write_all(pending))

    def snapshot(self, viewer: Any) -> list[Pending]:
        """The planes of ``viewer`` whose ROIs differ from what is stored (taken under the state lock)."""
        memory = self._memory_of(viewer)
        found = []
        with self.lock:
            for f, frame in enumerate(viewer.frames):
                for s, pix in enumerate(frame):
                    records = [record_of(r) for r in viewer.rois[f][s]]
                    digest = fingerprint(records)
                    if digest == memory.saved.get((f, s), _EMPTY):
                        continue
                    info = self.plane_info(pix)
                    if info is not None:
                        merged = memory.merged.get((f, s), [])
                        found.append(Pending(viewer, (f, s), info, records, list(merged), digest, pix))
        return found

    def _save_viewers(self, viewers: list[Any]) -> None:
        for viewer in viewers:
            if not getattr(viewer, "closed", False):  # a closed viewer was saved when it closed
                self._write_all(self.snapshot(viewer))

    def _write_all(self, pending: list[Pending]) -> None:
        with self._io:
            for item in pending:
                try:
                    self.write(item)
                except Exception as exc:  # the next change tries again; the user hears of it
                    log.exception("could not save the ROIs of %s", item.info.key.label())
                    self.foreign.problems.append(f"saving the ROIs of image {item.info.key.label()} failed: {exc}")

    def write(self, item: Pending) -> None:
        """Write (or remove) one plane's stored ROIs, then remember them as saved."""
        folder = self.folder(item.info.study_uid)
        with self._io:
            if not item.records and not item.imported_from:
                delete_plane(self.db, folder, item.info.key)
            else:
                for record in item.records:
                    measure(record, item.pix)
                header = source_header(item.info.path)
                source = SourceImage(item.info.path, item.info.key, item.info.rows, item.info.columns, item.plane[1])
                target = PlaneTarget(self.db, item.info.study_id, item.info.study_uid, folder, header)
                write_plane(target, PlaneRois(source, item.records, item.imported_from))
        self._memory_of(item.viewer).saved[item.plane] = item.fingerprint

    def warm_up(self) -> None:
        """Load the DICOM writers on a thread now (a second or two), so the first save is not late."""
        if self.enabled:
            threading.Thread(target=_import_writers, name="osirix-roi-warm-up", daemon=True).start()

    def flush(self, timeout: float = 60.0) -> bool:
        """Save every pending change now (a clean exit); False when that took longer than ``timeout``."""
        return self.saver.flush(timeout)

    # --- the test kit's reset ----------------------------------------------------------------

    def files(self) -> frozenset[str]:
        """Every stored-ROI file now in the database folder."""
        root = self.db.files_folder / ROI_FOLDER
        return frozenset(str(p) for p in root.glob("*/*.dcm")) if root.is_dir() else frozenset()

    def restore(self, files: frozenset[str]) -> int:
        """Drop pending saves and every stored-ROI file written since ``files`` was taken; the count."""
        from .catalog import remove_objects

        self.saver.discard()
        with self._io:
            doomed = [Path(p) for p in self.files() - files]
            remove_objects(self.db, doomed)
            for path in doomed:
                path.unlink(missing_ok=True)
        return len(doomed)


def _import_writers() -> None:
    """What the first save would otherwise load: highdicom, the SR code dictionary, and the DICOM
    standard's module tables highdicom reads (once, about 60 MB) when it builds any object."""
    import highdicom as hd
    from pydicom.sr.codedict import codes
    from pydicom.uid import CTImageStorage, generate_uid

    codes.SCT.Area  # noqa: B018 - the code dictionary loads on first use
    source = hd.sr.SourceImageForRegion(CTImageStorage, str(generate_uid()))
    hd.sr.ImageRegion(hd.sr.GraphicTypeValues.POINT, np.zeros((1, 2)), source)


def _shape(record: RoiRecord) -> tuple[Any, ...]:
    """What makes two ROIs the same drawing (whatever their colour or tracking UID)."""
    texture = record.texture.tobytes() if record.texture is not None else b""
    shape = record.texture.shape if record.texture is not None else None
    return (
        record.itype,
        record.name,
        record.rect,
        record.points.round(3).tobytes(),
        record.texture_origin,
        shape,
        texture,
    )


def _copy(record: RoiRecord) -> RoiRecord:
    """A record of its own (each viewer gets its own ROIs)."""
    import dataclasses

    return dataclasses.replace(
        record,
        points=record.points.copy(),
        texture=record.texture.copy() if record.texture is not None else None,
        measurements=dict(record.measurements),
    )

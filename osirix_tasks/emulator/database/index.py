"""The embedded OsiriX's DICOM database: headers indexed in SQLite, files in the database folder.

Layout of a database folder (like OsiriX's ``OsiriX Data``)::

    index.sqlite            studies, series, images (WAL mode)
    DATABASE.noindex/N/     copied DICOM files, 1000 per sub-folder

Rows follow OsiriX's Core Data model: a study per StudyInstanceUID, a series per OsiriX series
identifier (SeriesInstanceUID, plus `` TE-<echo time>`` for MR images with an echo time, since
OsiriX splits multi-echo series), an image per SOP instance.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._support.private import private_file, private_folder, private_sqlite

__all__ = ["Database", "StudyRow", "SeriesRow", "ImageRow", "IMAGE", "OBJECT", "private_file", "migrate"]

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY,
    study_instance_uid TEXT NOT NULL UNIQUE,
    patient_name TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL DEFAULT '',
    patient_birth_date TEXT,
    patient_sex TEXT NOT NULL DEFAULT '',
    study_description TEXT NOT NULL DEFAULT '',
    institution_name TEXT,
    referring_physician TEXT,
    performing_physician TEXT,
    modality TEXT NOT NULL DEFAULT '',
    date_added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    series_key TEXT NOT NULL UNIQUE,
    series_instance_uid TEXT NOT NULL,
    sop_class_uid TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    modality TEXT NOT NULL DEFAULT '',
    series_number INTEGER
);
"""
_IMAGES_TABLE = """CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    sop_instance_uid TEXT NOT NULL,
    path TEXT NOT NULL,
    instance_number INTEGER,
    rows INTEGER NOT NULL,
    columns INTEGER NOT NULL,
    number_of_frames INTEGER NOT NULL DEFAULT 1,
    modality TEXT NOT NULL DEFAULT '',
    acquired TEXT,
    position TEXT,
    orientation TEXT,
    slice_location_tag REAL,
    header TEXT NOT NULL DEFAULT '{}',
    frame INTEGER NOT NULL DEFAULT 0,
    slice_location REAL,
    kind TEXT NOT NULL DEFAULT 'image',
    UNIQUE (series_id, sop_instance_uid, frame),
    UNIQUE (path, frame)
)"""
SCHEMA += (
    _IMAGES_TABLE
    + """;
CREATE INDEX IF NOT EXISTS images_series ON images(series_id);
CREATE INDEX IF NOT EXISTS series_study ON series(study_id);
"""
)
#: Schema version in PRAGMA user_version: 2 = one image row per frame (frame, slice_location, kind).
SCHEMA_VERSION = 2
#: Image kinds: a plane OsiriX shows, or a non-image object (SR, PR, RT plan ...) listed in its series.
IMAGE, OBJECT = "image", "object"


@dataclass(frozen=True)
class StudyRow:
    """One study row."""

    id: int
    study_instance_uid: str
    patient_name: str
    patient_id: str
    patient_birth_date: str | None
    patient_sex: str
    study_description: str
    institution_name: str | None
    referring_physician: str | None
    performing_physician: str | None
    modality: str
    date_added: float


@dataclass(frozen=True)
class SeriesRow:
    """One series row (``series_key`` is OsiriX's series identifier)."""

    id: int
    study_id: int
    series_key: str
    series_instance_uid: str
    sop_class_uid: str
    description: str
    modality: str
    series_number: int | None


@dataclass(frozen=True)
class ImageRow:
    """One image row; ``header`` holds the extra tags the viewers need (JSON)."""

    id: int
    series_id: int
    sop_instance_uid: str
    path: str
    instance_number: int | None
    rows: int
    columns: int
    number_of_frames: int
    modality: str
    acquired: str | None
    position: str | None
    orientation: str | None
    slice_location_tag: float | None
    header: str
    frame: int = 0
    slice_location: float | None = None
    kind: str = IMAGE

    @property
    def is_image(self) -> bool:
        """False for a non-image object (structured report, presentation state, RT plan ...)."""
        return self.kind == IMAGE

    @property
    def position_xyz(self) -> list[float] | None:
        """ImagePositionPatient, or None."""
        return json.loads(self.position) if self.position else None

    @property
    def orientation_6(self) -> list[float] | None:
        """ImageOrientationPatient (row then column direction), or None."""
        return json.loads(self.orientation) if self.orientation else None

    @property
    def extra(self) -> dict[str, Any]:
        """The other header values kept at import (spacing, window, rescale ...)."""
        return json.loads(self.header)


def _read_lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        return []


def migrate(conn: sqlite3.Connection) -> None:
    """Create the schema, or bring a database of an earlier version to SCHEMA_VERSION.

    Version 1 kept one row per file (path unique); version 2 keeps one per frame. Old rows become
    frame 0 with OsiriX's DicomImage slice location computed from their position and orientation.
    """
    from .frames import image_slice_location

    version = conn.execute("PRAGMA user_version").fetchone()[0]
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'images'").fetchone()
    if exists and version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("ALTER TABLE images RENAME TO images_v1")
            conn.execute("DROP INDEX IF EXISTS images_series")
            conn.execute(_IMAGES_TABLE)
            conn.execute(
                "INSERT INTO images (id, series_id, sop_instance_uid, path, instance_number, rows, columns, "
                "number_of_frames, modality, acquired, position, orientation, slice_location_tag, header) "
                "SELECT id, series_id, sop_instance_uid, path, instance_number, rows, columns, "
                "number_of_frames, modality, acquired, position, orientation, slice_location_tag, header "
                "FROM images_v1"
            )
            conn.execute("DROP TABLE images_v1")
            old = conn.execute("SELECT id, position, orientation FROM images").fetchall()
            for row_id, position, orientation in old:
                location = image_slice_location(
                    json.loads(position) if position else None, json.loads(orientation) if orientation else None
                )
                conn.execute("UPDATE images SET slice_location = ? WHERE id = ?", (location, row_id))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    conn.executescript(SCHEMA)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _pid_alive(text: str) -> bool:
    try:
        os.kill(int(text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


class Database:
    """A database folder; one SQLite connection per thread, writes serialised by a lock."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        # patient data: the folder 0700, the index and its companions 0600 (tightened when found looser,
        # in a folder that is a database folder: new, or with its index)
        own = not self.folder.exists() or (self.folder / "index.sqlite").exists()
        private_folder(self.folder, tighten=own)
        self.files_folder = self.folder / "DATABASE.noindex"
        self.index_path = self.folder / "index.sqlite"
        self._local = threading.local()
        self.write_lock = threading.RLock()
        #: Set by close(): imports running on this database stop at their next file.
        self.closing = threading.Event()
        self._journal: Any = None
        self._folders: set[Path] = set()
        self._watch: sqlite3.Connection | None = None
        self._watch_lock = threading.Lock()
        private_sqlite(self.index_path, own_folder=own)
        if self.files_folder.is_dir():
            private_folder(self.files_folder)
        with self.connection() as conn:
            migrate(conn)
        self._marker = self.folder / f".in-use-{os.getpid()}"
        self._recover_after_crash()
        self._marker.touch(mode=0o600)

    def _recover_after_crash(self) -> None:
        """Remove what dead processes left half done: the copies their marker journals name that no
        committed row refers to (and their ``.part`` files). Nothing else is touched: copies in
        flight in a live process are in no dead journal, and the write lock is held while checking,
        so no other process is between copying and committing."""
        dead = [
            m for m in self.folder.glob(".in-use-*") if m != self._marker and not _pid_alive(m.name.rsplit("-", 1)[-1])
        ]
        if not dead:
            return
        with self.write_lock:
            conn = self.connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # another process holds the lock too long: next time
                log.warning("%s: crash recovery postponed (%s)", self.folder, exc)
                return
            try:
                for marker in dead:
                    journaled = [Path(line) for line in _read_lines(marker)]
                    for path in journaled:
                        known = conn.execute("SELECT 1 FROM images WHERE path = ? LIMIT 1", (str(path),)).fetchone()
                        if not known:
                            path.unlink(missing_ok=True)
                        path.with_suffix(".part").unlink(missing_ok=True)
                    marker.unlink(missing_ok=True)
            finally:
                conn.execute("COMMIT")

    def journal_copies(self, paths: list[Path]) -> None:
        """Record the copies this process is about to make (crash recovery removes only these)."""
        if self._journal is None:
            self._journal = open(self._marker, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the batch
        self._journal.write("".join(f"{p}\n" for p in paths))
        self._journal.flush()

    def clear_journal(self) -> None:
        """The journaled copies are committed (or removed): forget them."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        with open(self._marker, "w", encoding="utf-8"):
            pass

    def make_private_folder(self, folder: Path) -> None:
        """Create ``folder`` (and DATABASE.noindex above it) owner-only (0700)."""
        if folder in self._folders:
            return
        self._folders.add(folder)
        for path in (self.files_folder, folder):
            if not path.is_dir():
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(path, 0o700)

    def close(self) -> None:
        """Mark the folder as no longer used by this process (a clean exit); running imports stop."""
        self.closing.set()
        self._marker.unlink(missing_ok=True)

    def data_version(self) -> int:
        """A number that changes whenever the index is committed to by any other connection, in this
        process or another (``osirix-tasks import`` or ``dicom get`` while a host serves the folder)."""
        with self._watch_lock:
            if self._watch is None:
                self._watch = sqlite3.connect(
                    self.index_path, timeout=30, isolation_level=None, check_same_thread=False
                )
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def connection(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.index_path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: all of it lands, or none of it."""
        with self.write_lock:
            conn = self.connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def clear(self) -> None:
        """Remove every row and every copied file."""
        import shutil

        with self.transaction() as conn:
            conn.execute("DELETE FROM images")
            conn.execute("DELETE FROM series")
            conn.execute("DELETE FROM studies")
        shutil.rmtree(self.files_folder, ignore_errors=True)

    def delete(self, study_ids: list[int], series_ids: list[int]) -> tuple[int, int, int]:
        """Remove studies (with their series) and series from the index, as OsiriX's Delete does, and
        the files this database copied for them (files imported in place are left where they are).
        A study left without series goes too. Returns how many studies, series and images went."""
        with self.transaction() as conn:
            series = set(series_ids)
            for study_id in study_ids:
                series.update(r[0] for r in conn.execute("SELECT id FROM series WHERE study_id = ?", (study_id,)))
            marks = ",".join("?" * len(series))
            paths = [
                r[0] for r in conn.execute(f"SELECT DISTINCT path FROM images WHERE series_id IN ({marks})", (*series,))
            ]
            images = conn.execute(f"DELETE FROM images WHERE series_id IN ({marks})", (*series,)).rowcount
            studies = {
                r[0] for r in conn.execute(f"SELECT DISTINCT study_id FROM series WHERE id IN ({marks})", (*series,))
            }
            conn.execute(f"DELETE FROM series WHERE id IN ({marks})", (*series,))
            gone = 0
            for study_id in studies | set(study_ids):
                if conn.execute("SELECT 1 FROM series WHERE study_id = ? LIMIT 1", (study_id,)).fetchone() is None:
                    gone += conn.execute("DELETE FROM studies WHERE id = ?", (study_id,)).rowcount
        copied = self.files_folder.resolve()
        for path in paths:
            file = Path(path).resolve()
            if file.is_relative_to(copied):
                file.unlink(missing_ok=True)
        return gone, len(series), images

    # --- reads -----------------------------------------------------------------------------

    def _rows(self, cls: type, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        return [cls(*row) for row in self.connection().execute(sql, args)]

    def study(self, study_id: int) -> StudyRow | None:
        """One study by id."""
        found = self._rows(StudyRow, "SELECT * FROM studies WHERE id = ?", (study_id,))
        return found[0] if found else None

    def series_row(self, series_id: int) -> SeriesRow | None:
        """One series by id."""
        found = self._rows(SeriesRow, "SELECT * FROM series WHERE id = ?", (series_id,))
        return found[0] if found else None

    def image(self, image_id: int) -> ImageRow | None:
        """One image by id."""
        found = self._rows(ImageRow, "SELECT * FROM images WHERE id = ?", (image_id,))
        return found[0] if found else None

    def studies(self) -> list[StudyRow]:
        """All studies, by id."""
        return self._rows(StudyRow, "SELECT * FROM studies ORDER BY id")

    def series_of(self, study_id: int) -> list[SeriesRow]:
        """The series of a study, by id (callers apply OsiriX's order)."""
        return self._rows(SeriesRow, "SELECT * FROM series WHERE study_id = ? ORDER BY id", (study_id,))

    def images_of(self, series_id: int) -> list[ImageRow]:
        """The images of a series, by id."""
        return self._rows(ImageRow, "SELECT * FROM images WHERE series_id = ? ORDER BY id", (series_id,))

    def images_of_study(self, study_id: int) -> list[ImageRow]:
        """Every image of a study."""
        return self._rows(
            ImageRow,
            "SELECT images.* FROM images JOIN series ON images.series_id = series.id "
            "WHERE series.study_id = ? ORDER BY images.id",
            (study_id,),
        )

    def find_study(self, study_instance_uid: str) -> StudyRow | None:
        """A study by StudyInstanceUID."""
        found = self._rows(StudyRow, "SELECT * FROM studies WHERE study_instance_uid = ?", (study_instance_uid,))
        return found[0] if found else None

    def find_series(self, uid: str) -> list[SeriesRow]:
        """Series whose OsiriX identifier or DICOM SeriesInstanceUID is ``uid``."""
        return self._rows(
            SeriesRow, "SELECT * FROM series WHERE series_key = ? OR series_instance_uid = ? ORDER BY id", (uid, uid)
        )

    def counts(self) -> tuple[int, int, int]:
        """(studies, series, images)."""
        conn = self.connection()
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("studies", "series", "images")
        )

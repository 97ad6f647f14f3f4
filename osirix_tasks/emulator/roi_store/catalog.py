"""A study's ROI series and their objects in the database index, so the study lists them as OsiriX
lists its ``OsiriX ROI SR`` series: a series of its own modality, whose objects are not images
(kind ``object``: counted by no image count, never opened by a viewer)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from ...roidicom.records import PlaneKey
from ..database.index import OBJECT, Database, ImageRow
from .layout import series_uid

__all__ = ["put_object", "remove_objects", "study_objects"]


def _series_id(
    conn: sqlite3.Connection, study_id: int, study_uid: str, kind: tuple[str, int], modality: str, sop_class: str
) -> int:
    description, number = kind
    uid = series_uid(study_uid, description)
    found = conn.execute("SELECT id FROM series WHERE series_key = ?", (uid,)).fetchone()
    if found:
        return int(found[0])
    cursor = conn.execute(
        "INSERT INTO series (study_id, series_key, series_instance_uid, sop_class_uid, description, modality, "
        "series_number) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (study_id, uid, uid, sop_class, description, modality, number),
    )
    return int(cursor.lastrowid or 0)


def put_object(
    db: Database,
    *,
    study_id: int,
    study_uid: str,
    series: tuple[str, int],
    modality: str,
    sop_class: str,
    sop_instance_uid: str,
    key: PlaneKey,
    path: Path,
    replaces: list[Path] | None = None,
) -> None:
    """Index (or re-index) the object at ``path`` holding the ROIs of plane ``key``; the rows of
    ``replaces`` (older objects of the plane) go in the same transaction."""
    now = dt.datetime.now()
    header = json.dumps({"Comment": key.label(), "Modality": modality, "SeriesDescription": series[0]})
    with db.transaction() as conn:
        series_id = _series_id(conn, study_id, study_uid, series, modality, sop_class)
        for old in [path, *(replaces or [])]:
            conn.execute("DELETE FROM images WHERE path = ?", (str(old),))
        conn.execute(
            "INSERT INTO images (series_id, sop_instance_uid, path, instance_number, rows, columns, "
            "number_of_frames, modality, acquired, header, frame, slice_location, kind) "
            "VALUES (?, ?, ?, NULL, 0, 0, 1, ?, ?, ?, 0, 0.0, ?)",
            (series_id, sop_instance_uid, str(path), modality, now.strftime("%Y%m%d|%H%M%S"), header, OBJECT),
        )


def remove_objects(db: Database, paths: list[Path]) -> None:
    """Drop the rows of ``paths``, and a ROI series left empty."""
    if not paths:
        return
    with db.transaction() as conn:
        series = set()
        for path in paths:
            for (series_id,) in conn.execute("SELECT series_id FROM images WHERE path = ?", (str(path),)).fetchall():
                series.add(series_id)
            conn.execute("DELETE FROM images WHERE path = ?", (str(path),))
        for series_id in series:
            if not conn.execute("SELECT 1 FROM images WHERE series_id = ? LIMIT 1", (series_id,)).fetchone():
                conn.execute("DELETE FROM series WHERE id = ?", (series_id,))


def study_objects(db: Database, study_id: int) -> list[ImageRow]:
    """The study's objects that may hold ROIs, one row per file: structured reports, and segmentations
    (OsiriX lists a SEG as a series of images, one per frame; its masks are also shown as ROIs)."""
    rows = db.connection().execute(
        "SELECT images.* FROM images JOIN series ON images.series_id = series.id "
        "WHERE series.study_id = ? AND ((images.kind = ? AND images.modality = 'SR') OR images.modality = 'SEG') "
        "ORDER BY images.id",
        (study_id, OBJECT),
    )
    unique: dict[str, ImageRow] = {}
    for row in rows:
        unique.setdefault(row[3], ImageRow(*row))
    return list(unique.values())

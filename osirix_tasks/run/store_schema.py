"""The run store's file: connection settings, tables, and the migrations of stores made by
earlier versions.

Version 1 added ``runs.output_dropped`` (output not kept because the run went past the output
cap) and the ``settings`` table. Version 2 added ``runs.seen`` (the last moment its supervisor was
known alive: where a lost run ends) and ``runs.output_lost`` (output that could not be stored, a
full disk).

Each later version is one step of :data:`_STEPS` (version 3: ``runs.triggered_by``, JSON: the DICOM
node's trigger that started the run, and on what; version 4: the batch tables of
:mod:`osirix_tasks.batch.records`: ``batches`` (one per batch), ``batch_items`` (one per target) and
``batch_runs`` (the run of each attempt of an item)). A step checks what it adds before adding it, so it
runs on a store of any earlier version, a fresh one too; a new step goes at the end of the list. That
includes the stores of the batch branch before its merge, numbered 2 with the batch tables and without
version 2's columns: every step runs on them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

__all__ = ["SCHEMA_VERSION", "prepare", "WAL_CHECKPOINT_PAGES", "BUSY_SECONDS"]

#: Pages (64 KiB each) the write-ahead log may hold before a commit copies it into the store.
WAL_CHECKPOINT_PAGES = 256
#: The write-ahead log is cut back to this size once copied (bytes).
WAL_SIZE_LIMIT = 16 * 1024 * 1024
#: How long a connection waits for another one's write lock.
BUSY_SECONDS = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    task_name TEXT NOT NULL,
    task_type TEXT NOT NULL,
    spec TEXT NOT NULL,
    command TEXT NOT NULL,
    cwd TEXT NOT NULL,
    env TEXT NOT NULL DEFAULT '{}',
    server TEXT,
    blocking INTEGER NOT NULL DEFAULT 0,
    background INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    pid INTEGER,
    supervisor_pid INTEGER,
    started REAL NOT NULL,
    ended REAL,
    exit_code INTEGER,
    signal INTEGER,
    cancelled INTEGER NOT NULL DEFAULT 0,
    timed_out INTEGER NOT NULL DEFAULT 0,
    timeout REAL,
    message TEXT,
    output_dropped INTEGER NOT NULL DEFAULT 0,
    seen REAL,
    output_lost INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS output (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    stream INTEGER NOT NULL,
    at REAL NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

#: Version 4: the batch records.
BATCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    task_name TEXT NOT NULL,
    task_type TEXT NOT NULL,
    spec TEXT NOT NULL,
    registry TEXT NOT NULL,
    server TEXT,
    options TEXT NOT NULL DEFAULT '{}',
    selection TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    driver_pid INTEGER,
    created REAL NOT NULL,
    ended REAL,
    cancelled INTEGER NOT NULL DEFAULT 0,
    message TEXT
);
CREATE TABLE IF NOT EXISTS batch_items (
    batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    target TEXT NOT NULL,
    ids TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    exit_code INTEGER,
    signal INTEGER,
    started REAL,
    ended REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    run_id TEXT,
    result TEXT,
    message TEXT,
    PRIMARY KEY (batch_id, idx)
);
CREATE TABLE IF NOT EXISTS batch_runs (
    run_id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    idx INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_created ON batches(created);
"""

#: Columns of ``runs`` that later versions added, for stores made before them.
_ADDED_COLUMNS = (
    ("output_dropped", "INTEGER NOT NULL DEFAULT 0"),
    ("seen", "REAL"),
    ("output_lost", "INTEGER NOT NULL DEFAULT 0"),
)


def _add_column(conn: sqlite3.Connection, column: str, declaration: str) -> None:
    """``ALTER TABLE runs ADD COLUMN`` unless ``runs`` has that column already."""
    if column not in {row[1] for row in conn.execute("PRAGMA table_info(runs)")}:
        conn.execute(f"ALTER TABLE runs ADD COLUMN {column} {declaration}")


def _v3_triggered_by(conn: sqlite3.Connection) -> None:
    """Version 3: what started a run when a DICOM node's trigger did (JSON; NULL for every other run)."""
    _add_column(conn, "triggered_by", "TEXT")


def _v4_batches(conn: sqlite3.Connection) -> None:
    """Version 4: the batch records (tables created when missing)."""
    for statement in BATCH_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


#: The steps after version 2 (the tables of :data:`SCHEMA`), in order: step N brings a store to version 2 + N.
_STEPS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v3_triggered_by, _v4_batches)
SCHEMA_VERSION = 2 + len(_STEPS)


def prepare(conn: sqlite3.Connection) -> None:
    """Set up a fresh connection: pragmas (the file-level ones take effect on a new store only),
    tables, and the migration of an older store."""
    # Before anything is written: 64 KiB pages (output rows are megabytes; they are stored 3x
    # faster than with 4 KiB pages). No auto-vacuum: it halves the speed of storing output; clearing
    # runs gives the space back with VACUUM instead (RunStore.reclaim).
    conn.execute("PRAGMA page_size=65536")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then find it done
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            for column, declaration in _ADDED_COLUMNS:
                if column not in columns:
                    conn.execute(f"ALTER TABLE runs ADD COLUMN {column} {declaration}")
            for step in _STEPS:
                step(conn)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")

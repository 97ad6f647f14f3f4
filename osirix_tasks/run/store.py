"""The run store: every run's record and output, in SQLite (WAL) in the per-user folder.

Several runs write at once (each supervisor has its own connection; WAL lets readers go on while
one writes). Every write takes the write lock up front (``BEGIN IMMEDIATE``) and waits for it,
so a writer never fails because another one committed in between. Output is stored as it
arrives, in chunks with their stream and time, so memory stays bounded whatever a task prints;
past the store's output cap (:meth:`RunStore.max_output_bytes`) a run's output is not kept.
Clearing runs gives their space back to the file system (VACUUM).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._support.paths import run_store_path, user_data_dir
from .._support.private import private_sqlite
from .._support.processes import pid_alive
from ..errors import RunBlocked, StoreError
from ..model import RunStatus
from .record import OutputChunk, RunRecord
from .store_schema import BUSY_SECONDS, WAL_CHECKPOINT_PAGES, prepare
from .streams import STDERR, STDOUT, STREAM_NAMES, SYSTEM

__all__ = [
    "RunStore",
    "RunRecord",
    "OutputChunk",
    "STDOUT",
    "STDERR",
    "SYSTEM",
    "STREAM_NAMES",
    "store_path",
    "StoreError",
    "RunBlocked",
    "pid_alive",
    "DEFAULT_MAX_OUTPUT_BYTES",
]

FINAL = RunStatus.final()
#: A run younger than this is not declared lost: its supervisor may not have recorded itself yet.
LOST_AFTER_SECONDS = 2.0

#: Output kept per run unless the store's setting says otherwise.
DEFAULT_MAX_OUTPUT_BYTES = 128 * 1024 * 1024
_MAX_OUTPUT_KEY = "max_output_bytes"


def store_path() -> Path:
    """The run store in the per-user data folder."""
    return run_store_path()


def _record(row: sqlite3.Row) -> RunRecord:
    data = dict(row)
    data["spec"] = json.loads(data["spec"])
    data["command"] = json.loads(data["command"])
    data["env"] = json.loads(data["env"])
    data["triggered_by"] = json.loads(data["triggered_by"]) if data.get("triggered_by") else None
    for key in ("blocking", "background", "cancelled", "timed_out"):
        data[key] = bool(data[key])
    return RunRecord(**data)


class RunStore:
    """Access to a run store file; open one per process (or thread). :meth:`default` is the user's."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            # task output holds patient names, a run's env holds secrets: owner-only (0600 in 0700)
            private_sqlite(self.path, own_folder=self.path.parent == user_data_dir())
            self.conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            prepare(self.conn)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the run store {self.path}: {exc} - free some disk space or check the folder's permissions"
            ) from None

    @classmethod
    def default(cls) -> RunStore:
        """The user's run store, in the per-user data folder."""
        return cls(store_path())

    def reopen(self) -> RunStore:
        """Another connection to the same file (for another thread)."""
        return type(self)(self.path)

    @contextlib.contextmanager
    def _transaction(self, seconds: float = BUSY_SECONDS) -> Iterator[None]:
        """A write transaction holding the write lock from its start (``BEGIN IMMEDIATE``), retried
        for up to ``seconds`` while other processes hold it. Errors inside are the caller's."""
        deadline = time.monotonic() + seconds
        delay = 0.01
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() >= deadline:
                    raise StoreError(
                        f"the run store {self.path} stayed busy for {seconds:g} s ({exc}) - "
                        "other osirix-tasks processes are writing it; try again"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, args)
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot write the run store {self.path}: {exc} - free some disk space "
                "(runs go on; their output is not kept until then)"
            ) from None

    # --- runs ------------------------------------------------------------------------------

    @staticmethod
    def new_id() -> str:
        """A short unique run id, sortable by time."""
        return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]

    def create(
        self,
        run_id: str,
        *,
        spec: dict[str, Any],
        command: list[str],
        cwd: str,
        env: dict[str, str],
        server: str | None,
        blocking: bool,
        background: bool,
        timeout: float | None,
        triggered_by: dict[str, Any] | None = None,
    ) -> None:
        """Record a run about to start, unless a blocking run is going on (then RunBlocked).
        ``triggered_by``: what started it when a DICOM node's trigger did.

        The check and the insert are one IMMEDIATE transaction, so two starts cannot both pass.
        """
        with self._transaction():
            placeholders = ", ".join("?" for _ in FINAL)
            for row in self.conn.execute(
                f"SELECT id, task_name, supervisor_pid FROM runs WHERE blocking = 1 AND status NOT IN ({placeholders})",
                FINAL,
            ).fetchall():
                if pid_alive(row["supervisor_pid"]):
                    raise RunBlocked(row["task_name"], row["id"])
                self.conn.execute(
                    "UPDATE runs SET status = ?, ended = ?, message = ? WHERE id = ?",
                    (RunStatus.LOST.value, self.last_seen(row["id"]), _lost_message(None), row["id"]),
                )
            self.conn.execute(
                "INSERT INTO runs (id, task_name, task_type, spec, command, cwd, env, server, blocking, background, "
                "status, supervisor_pid, started, timeout, triggered_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    spec["name"],
                    spec["type"],
                    json.dumps(spec),
                    json.dumps(command),
                    cwd,
                    json.dumps(env),
                    server,
                    int(blocking),
                    int(background),
                    RunStatus.STARTING.value,
                    os.getpid(),
                    time.time(),
                    timeout,
                    json.dumps(triggered_by) if triggered_by is not None else None,
                ),
            )

    def mark_lost(self) -> list[str]:
        """Record as lost every unfinished run whose supervisor has died (its end was never recorded).

        The one place that decides a run is lost; returns the ids it marked.
        """
        marked = []
        for record in self.running():
            if not pid_alive(record.supervisor_pid) and time.time() - record.started > LOST_AFTER_SECONDS:
                self.update(
                    record.id,
                    status=RunStatus.LOST.value,
                    ended=self.last_seen(record.id),
                    message=_lost_message(record.pid),
                )
                marked.append(record.id)
        return marked

    def last_seen(self, run_id: str) -> float:
        """The last moment a run was known alive: its supervisor's last sign of life or its last output,
        whichever is later (never before its start). A lost run ends there, so its duration does not
        count the time nobody watched it (a host that was killed and restarted later)."""
        row = self.conn.execute(
            "SELECT MAX(runs.started, COALESCE(runs.seen, 0), COALESCE((SELECT MAX(at) FROM output "
            "WHERE output.run_id = runs.id), 0)) FROM runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else time.time()

    def update(self, run_id: str, **fields: Any) -> None:
        """Set fields of a run."""
        columns = ", ".join(f"{key} = ?" for key in fields)
        self._write(f"UPDATE runs SET {columns} WHERE id = ?", (*fields.values(), run_id))

    def get(self, run_id: str) -> RunRecord | None:
        """One run, by id or unique id prefix."""
        rows = self.conn.execute(
            "SELECT * FROM runs WHERE id = ? OR id LIKE ? ORDER BY started DESC LIMIT 2", (run_id, run_id + "%")
        ).fetchall()
        exact = [r for r in rows if r["id"] == run_id]
        if exact or len(rows) == 1:
            return _record((exact or rows)[0])
        return None

    def latest(self) -> RunRecord | None:
        """The most recent run."""
        row = self.conn.execute("SELECT * FROM runs ORDER BY started DESC LIMIT 1").fetchone()
        return _record(row) if row else None

    def runs(self, limit: int = 50) -> list[RunRecord]:
        """Most recent first."""
        return [_record(r) for r in self.conn.execute("SELECT * FROM runs ORDER BY started DESC LIMIT ?", (limit,))]

    def running(self) -> list[RunRecord]:
        """Runs not finished yet."""
        placeholders = ", ".join("?" for _ in FINAL)
        return [
            _record(r)
            for r in self.conn.execute(
                f"SELECT * FROM runs WHERE status NOT IN ({placeholders}) ORDER BY started", FINAL
            )
        ]

    # --- output ----------------------------------------------------------------------------

    def append(self, run_id: str, chunks: list[tuple[int, float, str]], first_seq: int) -> int:
        """Store chunks (stream, time, text) in one transaction; returns the next sequence number."""
        rows = [(run_id, first_seq + i, stream, at, text) for i, (stream, at, text) in enumerate(chunks)]
        try:
            with self._transaction():
                self.conn.executemany("INSERT INTO output (run_id, seq, stream, at, text) VALUES (?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write the run store {self.path}: {exc} - free some disk space") from None
        return first_seq + len(rows)

    def defer_checkpoints(self, defer: bool = True) -> None:
        """While ``defer``, this connection's commits only append to the write-ahead log (no copy
        into the store file, no fsync): a run's output is captured at the speed of the page cache.
        Turned back off once the run's end is recorded, followed by one :meth:`checkpoint`."""
        self.conn.execute(f"PRAGMA wal_autocheckpoint={0 if defer else WAL_CHECKPOINT_PAGES}")

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the store file, without waiting for others."""
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def make_room(self) -> None:
        """Copy the write-ahead log into the store file and empty it, waiting for readers (a full disk:
        the log may then take the next small write when appending to it failed)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def output(self, run_id: str, after_seq: int = -1) -> Iterator[OutputChunk]:
        """A run's output in arrival order (from ``after_seq`` on), read lazily."""
        cursor = self.conn.execute(
            "SELECT seq, stream, at, text FROM output WHERE run_id = ? AND seq > ? ORDER BY seq", (run_id, after_seq)
        )
        for row in cursor:
            yield OutputChunk(row["seq"], row["stream"], row["at"], row["text"])

    def clear(self) -> int:
        """Forget finished runs and their output (running runs are kept) and give the space back;
        returns how many runs were forgotten. Waits for runs that are writing (see _transaction)."""
        placeholders = ", ".join("?" for _ in FINAL)
        finished = f"SELECT id FROM runs WHERE status IN ({placeholders})"
        try:
            with self._transaction():
                count = self.conn.execute(f"SELECT COUNT(*) FROM ({finished})", FINAL).fetchone()[0]
                self.conn.execute(f"DELETE FROM output WHERE run_id IN ({finished})", FINAL)
                self.conn.execute(f"DELETE FROM runs WHERE id IN ({finished})", FINAL)
            self.reclaim()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot clear the run store {self.path}: {exc} - try again") from None
        return int(count)

    def reclaim(self) -> None:
        """Give the store's free pages back to the file system (VACUUM rewrites what is left: the
        runs still going on) and cut the write-ahead log back to nothing."""
        if self.conn.execute("PRAGMA freelist_count").fetchone()[0]:
            self.conn.execute("VACUUM")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def disk_bytes(self) -> int:
        """Bytes the store takes on disk (the file and its write-ahead log)."""
        return sum(
            path.stat().st_size for path in (self.path, self.path.with_name(self.path.name + "-wal")) if path.exists()
        )

    # --- settings --------------------------------------------------------------------------

    def max_output_bytes(self) -> int:
        """Output kept per run (the rest is dropped, and the run's record counts it)."""
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (_MAX_OUTPUT_KEY,)).fetchone()
        return int(row[0]) if row else DEFAULT_MAX_OUTPUT_BYTES

    def set_max_output_bytes(self, value: int) -> None:
        """Change the output cap for runs started from now on."""
        if value < 1:
            raise StoreError(f"the output cap must be at least 1 byte, not {value}")
        try:
            with self._transaction():
                self.conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (_MAX_OUTPUT_KEY, str(int(value))),
                )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write the run store {self.path}: {exc}") from None

    def close(self) -> None:
        """Close the store's connection."""
        self.conn.close()


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Whether an error means another connection holds a lock (worth waiting for)."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _lost_message(task_pid: int | None) -> str:
    message = "its supervisor stopped before the task ended; the task may still be running"
    if task_pid and pid_alive(task_pid):
        message += f" (pid {task_pid})"
    return message

"""Batches in the run store: one parent record per batch, one item per target, one run per attempt.

A batch's items are runs like any other (``osirix-tasks console RUN`` shows an item's output, ``runs
--json`` lists them with their batch), recorded by the driver when each attempt returns from its
worker. The parent record keeps what a resume needs: the task, registry, server and options, and
every target with its identifiers. A batch whose driver died (Ctrl-C aside: the host or the machine
stopped) is found *interrupted* by the next reader; its items that had not succeeded are what
``batch resume`` runs again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

from .._support.processes import pid_alive
from ..contract import Target
from ..errors import BatchError
from ..model import RunStatus
from ..run.store import RunStore
from .item import ItemOutcome

__all__ = ["BatchRecords", "BatchRecord", "ItemRecord", "BatchStatus", "PENDING", "RUNNING"]

PENDING = "pending"
RUNNING = RunStatus.RUNNING.value


class BatchStatus:
    """A batch's states (item states are ``pending``, ``running`` and the run states)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    #: Done, and some items did not succeed.
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: Its driver stopped before the end (the host or the machine stopped): resume it.
    INTERRUPTED = "interrupted"
    ERROR = "error"


@dataclass(frozen=True)
class ItemRecord:
    """One target of a batch and how its latest attempt ended."""

    batch_id: str
    index: int
    target: Target
    ids: dict[str, Any]
    status: str
    exit_code: int | None
    signal: int | None
    started: float | None
    ended: float | None
    attempts: int
    worker: str | None
    run_id: str | None
    result: dict[str, Any] | None
    message: str | None

    @property
    def duration(self) -> float | None:
        """Seconds of the latest attempt."""
        return None if self.started is None or self.ended is None else self.ended - self.started

    def to_json(self) -> dict[str, Any]:
        """Every field, the target as a mapping, plus the duration."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["target"] = json.loads(self.target.to_env())
        data["duration"] = self.duration
        return data


@dataclass(frozen=True)
class BatchRecord:
    """One batch: its task, options, state and counts of its items by state."""

    id: str
    task_name: str
    task_type: str
    spec: dict[str, Any]
    registry: str
    server: str | None
    options: dict[str, Any]
    selection: str
    status: str
    driver_pid: int | None
    created: float
    ended: float | None
    cancelled: bool
    message: str | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Items in the batch."""
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        """Items that have ended (whatever the outcome)."""
        return sum(n for state, n in self.counts.items() if state not in (PENDING, RUNNING))

    @property
    def finished(self) -> bool:
        """Whether no driver works on it any more."""
        return self.status != BatchStatus.RUNNING

    def to_json(self) -> dict[str, Any]:
        """Every field plus totals (``kind: batch`` tells it from a run in ``runs --json``)."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data.update(kind="batch", total=self.total, done=self.done, finished=self.finished)
        return data


def _item(row: sqlite3.Row) -> ItemRecord:
    return ItemRecord(
        batch_id=row["batch_id"],
        index=row["idx"],
        target=Target.from_env(row["target"]) or Target(),
        ids=json.loads(row["ids"]),
        status=row["status"],
        exit_code=row["exit_code"],
        signal=row["signal"],
        started=row["started"],
        ended=row["ended"],
        attempts=row["attempts"],
        worker=row["worker"],
        run_id=row["run_id"],
        result=json.loads(row["result"]) if row["result"] else None,
        message=row["message"],
    )


class BatchRecords:
    """Batch records in a run store (one per thread, as the store's connection; the user's store is
    ``RunStore.default()``)."""

    def __init__(self, store: RunStore):
        self.store = store
        self.conn = self.store.conn

    def _write(self) -> Any:
        return self.store._transaction()  # noqa: SLF001 - the store's one way to write (BEGIN IMMEDIATE, waits)

    # --- batches ---------------------------------------------------------------------------

    def create(
        self,
        *,
        spec: dict[str, Any],
        registry: str,
        server: str | None,
        options: dict[str, Any],
        selection: str,
        targets: list[tuple[Target, dict[str, Any]]],
    ) -> str:
        """Record a new batch with its items (all pending); returns its id."""
        batch_id = time.strftime("%Y%m%d-%H%M%S") + "-b" + uuid.uuid4().hex[:5]
        with self._write():
            self.conn.execute(
                "INSERT INTO batches (id, task_name, task_type, spec, registry, server, options, selection, status, "
                "driver_pid, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    batch_id,
                    spec["name"],
                    spec["type"],
                    json.dumps(spec),
                    registry,
                    server,
                    json.dumps(options),
                    selection,
                    BatchStatus.RUNNING,
                    os.getpid(),
                    time.time(),
                ),
            )
            self.conn.executemany(
                "INSERT INTO batch_items (batch_id, idx, target, ids, status) VALUES (?, ?, ?, ?, ?)",
                [(batch_id, i, t.to_env(), json.dumps(ids), PENDING) for i, (t, ids) in enumerate(targets)],
            )
        return batch_id

    def claim(self, batch_id: str) -> None:
        """This process drives the batch from now on (a resume): running again, cancel cleared."""
        with self._write():
            self.conn.execute(
                "UPDATE batches SET status = ?, driver_pid = ?, ended = NULL, cancelled = 0, message = NULL "
                "WHERE id = ?",
                (BatchStatus.RUNNING, os.getpid(), batch_id),
            )

    def set_server(self, batch_id: str, server: str) -> None:
        """The OsiriX the rest of the batch talks to (a resume after the host moved to another port)."""
        with self._write():
            self.conn.execute("UPDATE batches SET server = ? WHERE id = ?", (server, batch_id))

    def finish(self, batch_id: str, status: str, message: str | None = None) -> None:
        """Record the batch's end."""
        with self._write():
            self.conn.execute(
                "UPDATE batches SET status = ?, ended = ?, message = ? WHERE id = ?",
                (status, time.time(), message, batch_id),
            )
            if status != BatchStatus.SUCCEEDED:  # items still marked running never came back
                self.conn.execute(
                    "UPDATE batch_items SET status = ? WHERE batch_id = ? AND status = ?",
                    (PENDING, batch_id, RUNNING),
                )

    def request_cancel(self, batch_id: str) -> BatchRecord:
        """Ask the batch's driver to stop every item (it checks twice a second)."""
        record = self.get(batch_id)
        if record.finished:
            raise BatchError(f"batch {record.id} has already ended ({record.status})")
        with self._write():
            self.conn.execute("UPDATE batches SET cancelled = 1 WHERE id = ?", (record.id,))
        return self.get(record.id)

    def cancel_requested(self, batch_id: str) -> bool:
        """Whether a cancel was asked for (by the page, ``batch cancel``)."""
        row = self.conn.execute("SELECT cancelled FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return bool(row and row[0])

    def mark_interrupted(self) -> list[str]:
        """Record as interrupted every running batch whose driver has died; returns their ids."""
        rows = self.conn.execute(
            "SELECT id, driver_pid FROM batches WHERE status = ?", (BatchStatus.RUNNING,)
        ).fetchall()
        gone = [row["id"] for row in rows if not pid_alive(row["driver_pid"])]
        for batch_id in gone:
            self.finish(
                batch_id,
                BatchStatus.INTERRUPTED,
                f"its driver stopped before the end - 'osirix-tasks batch resume {batch_id}' runs what did not succeed",
            )
        return gone

    def _counts(self, batch_id: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT status, COUNT(*) FROM batch_items WHERE batch_id = ? GROUP BY status", (batch_id,)
        )
        return {row[0]: row[1] for row in rows}

    def _batch(self, row: sqlite3.Row) -> BatchRecord:
        data = dict(row)
        data["spec"] = json.loads(data["spec"])
        data["options"] = json.loads(data["options"])
        data["cancelled"] = bool(data["cancelled"])
        return BatchRecord(**data, counts=self._counts(data["id"]))

    def get(self, batch_id: str | None = None) -> BatchRecord:
        """A batch by id or unique prefix (the latest when None); BatchError when there is none."""
        if batch_id is None:
            rows = self.conn.execute("SELECT * FROM batches ORDER BY created DESC LIMIT 1").fetchall()
        else:
            rows = self.conn.execute(
                "SELECT * FROM batches WHERE id = ? OR id LIKE ? ORDER BY created DESC LIMIT 2",
                (batch_id, batch_id + "%"),
            ).fetchall()
            exact = [r for r in rows if r["id"] == batch_id]
            rows = exact or rows
        if len(rows) != 1:
            if batch_id is None:
                raise BatchError("no batch yet - start one with 'osirix-tasks batch TASK ...'")
            raise BatchError(f"no batch {batch_id!r} - see 'osirix-tasks batch list'")
        return self._batch(rows[0])

    def batches(self, limit: int = 50) -> list[BatchRecord]:
        """Most recent first."""
        rows = self.conn.execute("SELECT * FROM batches ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [self._batch(row) for row in rows]

    # --- items -----------------------------------------------------------------------------

    def items(self, batch_id: str, *, unfinished_only: bool = False) -> list[ItemRecord]:
        """A batch's items in order (only those that did not succeed, when ``unfinished_only``)."""
        sql = "SELECT * FROM batch_items WHERE batch_id = ?"
        args: tuple[Any, ...] = (batch_id,)
        if unfinished_only:
            sql += " AND status != ?"
            args += (RunStatus.SUCCEEDED.value,)
        return [_item(row) for row in self.conn.execute(sql + " ORDER BY idx", args)]

    def item(self, batch_id: str, index: int) -> ItemRecord:
        """One item; BatchError when there is none."""
        row = self.conn.execute(
            "SELECT * FROM batch_items WHERE batch_id = ? AND idx = ?", (batch_id, index)
        ).fetchone()
        if row is None:
            raise BatchError(f"batch {batch_id} has no item {index}")
        return _item(row)

    def mark_running(self, batch_id: str, running: dict[int, str]) -> None:
        """Items a worker has started: index -> worker."""
        if not running:
            return
        with self._write():
            self.conn.executemany(
                "UPDATE batch_items SET status = ?, worker = ? WHERE batch_id = ? AND idx = ? AND status = ?",
                [(RUNNING, worker, batch_id, index, PENDING) for index, worker in running.items()],
            )

    def record(
        self,
        outcome: ItemOutcome,
        *,
        spec: dict[str, Any],
        command: list[str],
        cwd: str,
        env: dict[str, str],
        server: str | None,
        timeout: float | None,
    ) -> None:
        """Record an attempt that came back, in one transaction: its run (as the runs table keeps every
        run, with its output) and the item's new state."""
        run_row = (
            outcome.run_id, spec["name"], spec["type"], json.dumps(spec), json.dumps(command), cwd, json.dumps(env),
            server, 0, 1, outcome.status, None, os.getpid(), outcome.started, outcome.ended, outcome.exit_code,
            outcome.signal, int(outcome.status == RunStatus.CANCELLED.value),
            int(outcome.status == RunStatus.TIMED_OUT.value), timeout, _with_worker(outcome), outcome.output_dropped,
        )  # fmt: skip
        result = json.dumps(outcome.result) if outcome.result is not None else None
        with self._write():
            self.conn.execute(
                "INSERT INTO runs (id, task_name, task_type, spec, command, cwd, env, server, blocking, background, "
                "status, pid, supervisor_pid, started, ended, exit_code, signal, cancelled, timed_out, timeout, "
                "message, output_dropped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                run_row,
            )
            self.conn.executemany(
                "INSERT INTO output (run_id, seq, stream, at, text) VALUES (?, ?, ?, ?, ?)",
                [(outcome.run_id, seq, stream, at, text) for seq, (stream, at, text) in enumerate(outcome.output)],
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO batch_runs (run_id, batch_id, idx) VALUES (?, ?, ?)",
                (outcome.run_id, outcome.batch_id, outcome.index),
            )
            self.conn.execute(
                "UPDATE batch_items SET status = ?, exit_code = ?, signal = ?, started = ?, ended = ?, attempts = ?, "
                "worker = ?, run_id = ?, result = ?, message = ? WHERE batch_id = ? AND idx = ?",
                (
                    outcome.status, outcome.exit_code, outcome.signal, outcome.started, outcome.ended,
                    outcome.attempt, outcome.worker, outcome.run_id, result, outcome.message,
                    outcome.batch_id, outcome.index,
                ),
            )  # fmt: skip

    def record_failure(self, batch_id: str, index: int, attempt: int, status: str, message: str) -> None:
        """An attempt that never came back with an outcome (its workers died, the cluster went away)."""
        with self._write():
            self.conn.execute(
                "UPDATE batch_items SET status = ?, attempts = ?, message = ?, ended = ? "
                "WHERE batch_id = ? AND idx = ?",
                (status, attempt, message, time.time(), batch_id, index),
            )

    def item_of_run(self, run_id: str) -> tuple[str, int] | None:
        """(batch id, item index) of a run that was an attempt of a batch item."""
        row = self.conn.execute("SELECT batch_id, idx FROM batch_runs WHERE run_id = ?", (run_id,)).fetchone()
        return (row[0], row[1]) if row else None


def _with_worker(outcome: ItemOutcome) -> str:
    text = f"batch {outcome.batch_id} item {outcome.index} attempt {outcome.attempt} on {outcome.worker}"
    return f"{text}; {outcome.message}" if outcome.message else text

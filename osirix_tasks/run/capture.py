"""A run's output on its way to the store: decoded, batched, capped, written by a thread of its own.

The supervisor's read loop hands each block read from the task's pipes to :class:`OutputCapture`.
Bytes are decoded per stream with an incremental UTF-8 decoder (a character split between two
reads is decoded whole; invalid bytes are replaced). Consecutive output of one stream is gathered
as a list of pieces and joined once per batch; a batch goes out every 0.2 s or 1 MB, as one
transaction with one row per stretch of one stream, so stdout and stderr stay apart and in arrival
order. A writer thread with its own store connection commits the batches while the read loop goes
on reading (SQLite and the pipe reads both run without the GIL); at most four batches wait for it,
so memory stays bounded whatever the task prints. Meanwhile the connections only append to the
store's write-ahead log: its copy into the store file, with the fsync, happens once, when the run
has ended (:meth:`OutputCapture.done`).

Past the store's output cap the rest of the output is not kept: one line says so, the run's record
counts the bytes dropped, and (with no echo) they are not even decoded. Output that could not be
stored (a full disk) is counted as lost (:attr:`OutputCapture.lost_bytes`), for the run's record;
output stops being kept while there is still room for the run's end (:mod:`.store_room`).

The writer also records, every :data:`HEARTBEAT_SECONDS`, that the run's supervisor is alive
(``runs.seen``): a run whose supervisor dies ends there, not when someone notices.
"""

from __future__ import annotations

import codecs
import contextlib
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable

from ..errors import StoreError
from .store import DEFAULT_MAX_OUTPUT_BYTES, STDERR, STDOUT, SYSTEM, RunStore
from .store_room import room_for_output

__all__ = ["OutputCapture", "Echo", "FLUSH_SECONDS", "FLUSH_BYTES"]

#: Called with (stream, text) for each piece of output as it arrives.
Echo = Callable[[int, str], None]

FLUSH_SECONDS = 0.2
#: Output gathered before it is sent to the writer (one transaction).
FLUSH_BYTES = 1 << 20
#: A line still being written may wait this long for its end before a timed flush.
LINE_GRACE_SECONDS = 0.05
#: Batches that may wait for the writer (the read loop waits beyond that).
QUEUED_BATCHES = 4
#: How often the run's record says its supervisor is alive.
HEARTBEAT_SECONDS = 2.0

Batch = list[tuple[int, float, str]]


class _Writer(threading.Thread):
    """Commits batches in order on its own connection; remembers the first store error."""

    def __init__(self, store: RunStore, run_id: str):
        super().__init__(name=f"output-writer-{run_id}", daemon=True)
        self.store, self.run_id = store, run_id
        self.batches: queue.Queue[tuple[Batch, int] | None] = queue.Queue(QUEUED_BATCHES)
        self.seq = 0
        self.dropped_recorded = 0
        self.seen_recorded = 0.0
        self.failed: str | None = None
        #: Bytes of the batches that could not be written.
        self.lost = 0

    def run(self) -> None:
        while True:
            item = self.batches.get()
            try:
                if item is None:
                    return
                if self.failed is None:
                    self._write(*item)
                if self.failed is not None:
                    self.lost += _size(item[0])
            finally:
                self.batches.task_done()

    def _write(self, batch: Batch, dropped: int) -> None:
        try:
            if batch:
                self.seq = self.store.append(self.run_id, batch, self.seq)
            now = time.time()
            if dropped != self.dropped_recorded or now - self.seen_recorded >= HEARTBEAT_SECONDS / 2:
                self.store.update(self.run_id, output_dropped=dropped, seen=now)
                self.dropped_recorded, self.seen_recorded = dropped, now
        except Exception as exc:  # noqa: BLE001 - the run goes on; its output cannot be kept
            # (whatever the error: a writer that died would leave the read loop waiting on it)
            self.failed = str(exc) if isinstance(exc, StoreError) else f"cannot store the output: {exc!r}"
            print(f"osirix-tasks: {self.failed}", file=sys.stderr)


def _size(batch: Batch) -> int:
    return sum(len(text.encode("utf-8", "replace")) for _, _, text in batch)


class OutputCapture:
    """Keeps one run's output (see the module's docstring)."""

    def __init__(self, store: RunStore, run_id: str, echo: Echo | None):
        self.store, self.run_id, self.echo = store, run_id, echo
        self.pending: list[tuple[int, float, list[str]]] = []
        self.pending_bytes = 0
        self.last_flush = self.last_add = time.monotonic()
        self.decoders = {s: codecs.getincrementaldecoder("utf-8")(errors="replace") for s in (STDOUT, STDERR)}
        self.kept_bytes = 0
        self.dropped = 0
        self._lost = 0
        self._failed: str | None = None
        self._writer: _Writer | None = None
        try:
            self.limit = store.max_output_bytes()
            store.defer_checkpoints()
        except (StoreError, sqlite3.Error):
            self.limit = DEFAULT_MAX_OUTPUT_BYTES

    @property
    def store_failed(self) -> str | None:
        """Why the output could not be kept, once storing it failed."""
        return self._failed or (self._writer.failed if self._writer else None)

    @store_failed.setter
    def store_failed(self, message: str | None) -> None:
        self._failed = message

    @property
    def lost_bytes(self) -> int:
        """Bytes of output that could not be stored (complete once :meth:`flush` has returned)."""
        return self._lost + (self._writer.lost if self._writer else 0)

    def add(self, stream: int, text: str) -> None:
        """Echo and keep ``text`` (the runner's own lines, and decoded output under the cap)."""
        if not text:
            return
        if self.echo is not None:
            self.echo(stream, text)
        self.last_add = time.monotonic()
        if self.pending and self.pending[-1][0] == stream:
            self.pending[-1][2].append(text)
        else:
            self.pending.append((stream, time.time(), [text]))
        self.pending_bytes += len(text)
        if self.pending_bytes >= FLUSH_BYTES:
            self._send()

    def add_bytes(self, stream: int, data: bytes) -> None:
        """Bytes read from a pipe: decoded and kept up to the cap, beyond it only echoed."""
        room = self.limit - self.kept_bytes
        if len(data) <= room:
            self.kept_bytes += len(data)
            self.add(stream, self.decoders[stream].decode(data))
            return
        if room > 0:
            self.kept_bytes = self.limit
            self.add(stream, self.decoders[stream].decode(data[:room]))
            data = data[room:]
        if not self.dropped:
            self.add(
                SYSTEM,
                f"\n[osirix-tasks] The output went past {self.limit / 2**20:g} MB: the rest is not kept "
                "(change the cap with 'osirix-tasks console --max-output MB').\n",
            )
        self.dropped += len(data)
        if self.echo is not None:
            self.echo(stream, self.decoders[stream].decode(data))

    def end(self, stream: int) -> None:
        """A pipe closed: what its decoder still holds (an incomplete character) is replaced."""
        text = self.decoders[stream].decode(b"", final=True)
        if self.dropped == 0:
            self.add(stream, text)
        elif text and self.echo is not None:
            self.echo(stream, text)

    def maybe_flush(self) -> None:
        """Send what is pending every 0.2 s, but not in the middle of a line still being written
        (a ``print`` is often two writes: the text, then the newline); with nothing to send, a
        heartbeat every :data:`HEARTBEAT_SECONDS`."""
        now = time.monotonic()
        if not self.pending:
            if now - self.last_flush >= HEARTBEAT_SECONDS:
                self._beat()
            return
        if now - self.last_flush < FLUSH_SECONDS:
            return
        if now - self.last_add < LINE_GRACE_SECONDS and not self.pending[-1][2][-1].endswith("\n"):
            return
        self._send()

    def flush(self) -> None:
        """Send what is pending and wait until every batch is committed."""
        self._send()
        if self._writer is not None:
            self._writer.batches.join()

    def _send(self) -> None:
        if not self.pending:
            return
        batch = [(stream, at, "".join(pieces)) for stream, at, pieces in self.pending]
        characters, self.pending, self.pending_bytes = self.pending_bytes, [], 0
        self.last_flush = time.monotonic()
        # characters, not bytes: no second encoding of the batch (the reserve covers multi-byte text)
        if not self.store_failed and characters > room_for_output(self.store.path):
            self.store_failed = (
                f"cannot write the run store {self.store.path}: its disk is nearly full - free some disk space "
                "(runs go on; their output is not kept until then)"
            )
        if self.store_failed:
            self._lost += _size(batch)
            return
        self._started_writer().batches.put((batch, self.dropped))

    def _beat(self) -> None:
        """Tell the writer the run is alive (skipped when it is busy: it records that anyway)."""
        self.last_flush = time.monotonic()
        if not self.store_failed:
            with contextlib.suppress(queue.Full):
                self._started_writer().batches.put_nowait(([], self.dropped))

    def _started_writer(self) -> _Writer:
        if self._writer is None:
            self._writer = _Writer(self._writer_store(), self.run_id)
            self._writer.start()
        return self._writer

    def _writer_store(self) -> RunStore:
        """The writer's own connection (the read loop keeps using ``store``); ``store`` itself if
        a second one cannot be opened."""
        try:
            store = RunStore(self.store.path)
            store.defer_checkpoints()
            return store
        except (StoreError, sqlite3.Error):
            return self.store

    def done(self) -> None:
        """The run's end is recorded: stop the writer, copy the write-ahead log into the store file
        (the one fsync of the run's output) and let the connection's commits do so again."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.batches.put(None)
            writer.join()
            self._lost += writer.lost
            if writer.store is not self.store:
                writer.store.close()
        with contextlib.suppress(sqlite3.Error):
            self.store.defer_checkpoints(False)
            self.store.checkpoint()

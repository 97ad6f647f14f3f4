"""Received instances: each written at once to a staging folder inside the database folder
(owner-only), its header read and checked there, then indexed in batches on one worker thread
through the importer's own batch step (same rows, same checks, one transaction per batch).

A batch is indexed when it is full, when its first file has waited ``delay`` seconds, or when an
association ends (a flush), so a study appears as it arrives and completely once its sender is
done. Files are moved into the database by a second name (hard link), so the bytes are written
once. A staged file that could not be indexed yet (disk full, index busy) stays staged and is
tried again (after 1 s, doubling up to 30 s); files left staged by a host that stopped are
indexed when the node starts again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._support.private import open_private, private_folder
from ..emulator.database.importer import LINK, ImportSummary, read_header, store_batch
from ..emulator.database.index import Database
from ..errors import DatabaseError

__all__ = ["Arrival", "Receiver", "Staged", "STAGING_FOLDER", "BATCH", "DELAY_SECONDS"]

log = logging.getLogger(__name__)
#: The staging folder's name inside the database folder.
STAGING_FOLDER = "incoming.noindex"
BATCH = 128
DELAY_SECONDS = 0.25
#: Wait before indexing again after the index or the disk refused a batch (doubling, up to 30 s).
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Staged:
    """One received file waiting to be indexed."""

    path: Path
    header: dict[str, Any]
    calling_aet: str


@dataclass(frozen=True)
class Arrival:
    """Instances of one series that were just indexed."""

    study_uid: str
    series_uid: str
    series_key: str
    modality: str
    series_description: str
    study_description: str
    calling_aet: str
    #: Instances newly indexed, and instances received (with those the database had already).
    instances: int
    received: int
    at: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the page's event stream)."""
        return dict(self.__dict__)


def _arrivals(items: Iterable[Staged], stored: set[str]) -> list[Arrival]:
    grouped: dict[tuple[str, str], list[Staged]] = {}
    for item in items:
        grouped.setdefault((item.header["series"]["series_key"], item.calling_aet), []).append(item)
    now = time.time()
    return [
        Arrival(
            study_uid=group[0].header["study"]["study_instance_uid"],
            series_uid=group[0].header["series"]["series_instance_uid"],
            series_key=key,
            modality=group[0].header["series"]["modality"],
            series_description=group[0].header["series"]["description"],
            study_description=group[0].header["study"]["study_description"],
            calling_aet=aet,
            instances=sum(str(item.path) in stored for item in group),
            received=len(group),
            at=now,
        )
        for (key, aet), group in grouped.items()
    ]


class Receiver:
    """The staging folder and the worker thread that indexes what lands there."""

    def __init__(
        self,
        db: Database,
        on_indexed: Callable[[list[Arrival]], None],
        *,
        on_staged: Callable[[Staged], None] | None = None,
        staging: Path | None = None,
        batch: int = BATCH,
        delay: float = DELAY_SECONDS,
    ):
        self.db = db
        self.staging = private_folder(staging or db.folder / STAGING_FOLDER)  # patient data: 0700
        self._on_indexed = on_indexed
        self._on_staged = on_staged
        self._batch = batch
        self._delay = delay
        self._queue: deque[tuple[float, Staged]] = deque()
        self._cond = threading.Condition()
        self._flush = False
        self._busy = False
        self._closing = False
        self.indexed = 0
        self._thread = threading.Thread(target=self._work, name="dicom-index", daemon=True)
        self._thread.start()
        if staging is None:
            self._recover()

    # --- the receiving side (association threads) --------------------------------------------

    def stage(self, parts: Iterable[bytes | memoryview]) -> Path:
        """Write a received file into the staging folder, owner-only (0600); OSError when it cannot be."""
        path = self.staging / f"{uuid.uuid4().hex}.dcm"
        descriptor = open_private(path)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                for part in parts:
                    handle.write(part)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def check(self, path: Path) -> dict[str, Any]:
        """The header the importer keeps for a staged file (the importer's checks: raises for a file
        it would skip; the caller removes it and refuses the instance)."""
        header = read_header(path)
        if "dicomdir" in header:
            raise ValueError("a DICOMDIR is not an instance to store")
        return header

    def accept(self, item: Staged) -> None:
        """Queue a checked, staged file for indexing."""
        if self._on_staged is not None:
            self._on_staged(item)
        with self._cond:
            self._queue.append((time.monotonic(), item))
            if len(self._queue) >= self._batch:
                self._cond.notify()

    def flush(self, wait: float | None = None) -> bool:
        """Index what is queued now (an association ended); with ``wait``, wait up to that many
        seconds until it is indexed. False when it was not done in time."""
        deadline = None if wait is None else time.monotonic() + wait
        with self._cond:
            self._flush = True
            self._cond.notify_all()
            if deadline is None:
                return True
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def pending(self) -> int:
        """Files received and not indexed yet."""
        with self._cond:
            return len(self._queue) + (self._batch if self._busy else 0)

    def close(self, wait: float = 10.0) -> None:
        """Index what is queued (up to ``wait`` seconds), then stop the worker (a staging folder of
        its own, given by the caller, is removed when empty)."""
        self.flush(wait)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(wait)
        if self.staging.name != STAGING_FOLDER:
            with contextlib.suppress(OSError):
                self.staging.rmdir()

    # --- the worker ------------------------------------------------------------------------

    def _take(self) -> list[Staged] | None:
        """The next batch, once it is due; None when closing with nothing left."""
        with self._cond:
            while True:
                if self._queue:
                    age = time.monotonic() - self._queue[0][0]
                    if self._flush or self._closing or len(self._queue) >= self._batch or age >= self._delay:
                        count = min(len(self._queue), self._batch)
                        items = [self._queue.popleft()[1] for _ in range(count)]
                        if not self._queue:
                            self._flush = False
                        self._busy = True
                        return items
                    self._cond.wait(self._delay - age)
                    continue
                self._flush = False
                self._cond.notify_all()
                if self._closing:
                    return None
                self._cond.wait()

    def _work(self) -> None:
        retry = RETRY_SECONDS
        while (items := self._take()) is not None:
            try:
                again = self._index(items)
            except Exception:  # never let the worker die: what was staged stays staged
                log.exception("indexing %d received file(s) failed", len(items))
                again = items
            with self._cond:
                self._busy = False
                if again:  # put them back in front and wait before trying again
                    now = time.monotonic()
                    self._queue.extendleft((now, item) for item in reversed(again))
                self._cond.notify_all()
            if not again:
                retry = RETRY_SECONDS
            elif not self._closing:
                time.sleep(retry)
                retry = min(retry * 2, 30.0)

    def _index(self, items: list[Staged]) -> list[Staged]:
        """Index one batch; returns the files to try again (the index or the disk refused them: they
        stay staged)."""
        summary = ImportSummary()
        try:
            stored = store_batch(self.db, [(i.path, i.header) for i in items], summary, copy=LINK)
        except (DatabaseError, sqlite3.Error) as exc:  # the disk is full, the index cannot be written
            log.warning(
                "could not index %d received file(s) (%s) - they stay in %s and are indexed when the index "
                "can be written again (free disk space)",
                len(items),
                exc,
                self.staging,
            )
            return items
        failed = {str(i.path) for i in items if any(e.startswith(f"{i.path} (") for e in summary.copy_failed)}
        for entry in summary.copy_failed:
            log.warning("received file not indexed yet (kept staged, tried again): %s", entry)
        stored_paths = {str(p) for p, _ in stored}
        settled = [i for i in items if str(i.path) not in failed]
        for item in settled:
            item.path.unlink(missing_ok=True)
        self.indexed += len(stored_paths)
        if settled:
            try:
                self._on_indexed(_arrivals(settled, stored_paths))
            except Exception:  # a listener's bug must not stop indexing
                log.exception("a listener of received series failed")
        return [i for i in items if str(i.path) in failed]

    def _recover(self) -> None:
        """Queue the files a previous host received and acknowledged but did not index."""
        left = sorted(self.staging.glob("*.dcm"))
        for path in left:
            try:
                header = self.check(path)
            except Exception as exc:  # noqa: BLE001 - any reason: it cannot be indexed
                log.warning("staged file %s cannot be indexed (%s: %s); removed", path, type(exc).__name__, exc)
                path.unlink(missing_ok=True)
                continue
            self.accept(Staged(path, header, ""))
        for partial in self.staging.glob("*.part"):
            partial.unlink(missing_ok=True)
        if left:
            log.warning("indexing %d file(s) received before the last stop", len(left))
            self.flush()

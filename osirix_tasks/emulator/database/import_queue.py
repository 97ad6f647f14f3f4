"""Background imports (CopyFilesIfNeeded) on a bounded worker pool, each one cancellable.

One worker imports at a time (imports serialise on the database's write lock anyway); at most
``MAX_PENDING`` requests wait behind it, more are refused with a clear message rather than
queued without end. Each import logs what it skipped at WARNING, the host's default level, naming
every file and why, and an import stopped by its database folder (disk full ...) at ERROR with
the reason. ``cancel()`` stops the running import at its next file and drops the waiting
ones; closing the database does the same.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ...errors import ImportQueueFull
from .importer import ImportSummary, import_paths
from .index import Database

__all__ = ["ImportQueue", "ImportJob", "ImportQueueFull", "MAX_PENDING", "WORKERS"]

log = logging.getLogger(__name__)
WORKERS = 1
MAX_PENDING = 16


@dataclass(eq=False)
class ImportJob:
    """One requested import: its paths, its cancel flag, its summary when done."""

    paths: list[str]
    copy: bool = True
    cancel: threading.Event = field(default_factory=threading.Event)
    summary: ImportSummary | None = None
    future: Future[ImportSummary] | None = None
    #: files read so far and files found (both 0 until the paths are walked)
    progress: tuple[int, int] = (0, 0)


class ImportQueue:
    """A bounded pool of import workers for one database."""

    def __init__(
        self,
        db: Database,
        on_done: Callable[[ImportJob], None] | None = None,
        workers: int = WORKERS,
        max_pending: int = MAX_PENDING,
    ):
        self.db = db
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="osirix-import")
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self.jobs: list[ImportJob] = []

    def pending(self) -> list[ImportJob]:
        """Imports not finished yet (running or waiting)."""
        with self._lock:
            return [j for j in self.jobs if j.future is not None and not j.future.done()]

    def submit(self, paths: list[str], copy: bool = True) -> ImportJob:
        """Queue an import; ImportQueueFull when MAX_PENDING are waiting already."""
        with self._lock:
            self.jobs = [j for j in self.jobs if j.future is None or not j.future.done()]
            if len(self.jobs) >= self._max_pending:
                raise ImportQueueFull(f"{len(self.jobs)} imports are already waiting - try again when they are done")
            job = ImportJob(list(paths), copy)
            job.future = self._pool.submit(self._run, job)
            self.jobs.append(job)
        return job

    def _run(self, job: ImportJob) -> ImportSummary:
        if job.cancel.is_set() or self.db.closing.is_set():
            job.summary = ImportSummary(cancelled=True)
            return job.summary
        try:
            job.summary = import_paths(
                self.db,
                job.paths,
                copy=job.copy,
                cancel=job.cancel,
                progress=lambda *done: setattr(job, "progress", done),
            )
        except Exception:  # a background import must never take the host down
            log.exception("background import of %d path(s) failed", len(job.paths))
            job.summary = ImportSummary(cancelled=True)
            return job.summary
        summary = job.summary
        level = (
            logging.ERROR
            if summary.stopped
            else logging.WARNING
            if summary.skipped or summary.cancelled
            else logging.INFO
        )
        log.log(level, "import of %d path(s): %s", len(job.paths), summary)
        for label, item in summary.skipped[5:]:  # str(summary) names the first five of each kind
            log.warning("import skipped (%s): %s", label, item)
        if self._on_done is not None:
            self._on_done(job)
        return summary

    def cancel(self) -> int:
        """Stop the running import at its next file and drop the waiting ones; how many were stopped."""
        with self._lock:
            jobs = [j for j in self.jobs if j.future is not None and not j.future.done()]
        for job in jobs:
            job.cancel.set()
        return len(jobs)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every queued import has finished; False on timeout."""
        import concurrent.futures

        with self._lock:
            futures = [j.future for j in self.jobs if j.future is not None]
        done, not_done = concurrent.futures.wait(futures, timeout=timeout)
        return not not_done

    def shutdown(self) -> None:
        """Cancel everything and stop the worker."""
        self.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

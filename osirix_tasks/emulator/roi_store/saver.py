"""The background thread that saves changed ROIs: a change is on disk within a second.

Changes are debounced: the thread waits until no change came for ``QUIET`` seconds, but never
more than ``LATEST`` seconds after the first change it has not saved, then saves. Work queued
explicitly (a viewer closing) is saved at once. The thread starts on the first change and
stays, idle, for the life of the store; :meth:`Saver.flush` saves everything now (a clean exit).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Saver", "QUIET", "LATEST"]

log = logging.getLogger(__name__)
QUIET = 0.1
LATEST = 0.4


class Saver:
    """Calls ``save(viewers)`` on its own thread for the viewers marked changed, and runs queued jobs."""

    def __init__(self, save: Callable[[list[Any]], None], name: str = "osirix-roi-saver"):
        self._save = save
        self._name = name
        self._cond = threading.Condition()
        self._dirty: dict[int, Any] = {}
        self._first = self._last = 0.0
        self._jobs: list[Callable[[], None]] = []
        self._busy = False
        self._thread: threading.Thread | None = None

    def mark(self, viewer: Any) -> None:
        """``viewer``'s ROIs changed: save them soon."""
        with self._cond:
            now = time.monotonic()
            if not self._dirty:
                self._first = now
            self._dirty[id(viewer)] = viewer
            self._last = now
            self._start()
            self._cond.notify_all()

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the thread as soon as it is free (a closing viewer's snapshot)."""
        with self._cond:
            self._jobs.append(job)
            self._start()
            self._cond.notify_all()

    def forget(self, viewer: Any) -> None:
        """Drop a pending change of ``viewer`` (it was saved another way)."""
        with self._cond:
            self._dirty.pop(id(viewer), None)

    def discard(self) -> None:
        """Drop every pending change and job, and wait for the one being saved."""
        with self._cond:
            self._dirty.clear()
            self._jobs.clear()
            while self._busy:
                self._cond.wait(0.05)

    def flush(self, timeout: float = 60.0) -> bool:
        """Save every pending change now and wait for the queue to be empty; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._first = self._last = 0.0  # due now
            self._cond.notify_all()
            while self._dirty or self._jobs or self._busy:
                if self._thread is None:
                    self._start()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def _due(self) -> float:
        """Seconds until the pending changes are due (0: now)."""
        if self._jobs:
            return 0.0
        if not self._dirty:
            return 3600.0
        now = time.monotonic()
        return max(0.0, min(self._last + QUIET, self._first + LATEST) - now)

    def _take(self) -> tuple[list[Callable[[], None]], list[Any]]:
        with self._cond:
            while True:
                wait = self._due()
                if wait <= 0:
                    break
                self._cond.wait(wait)
            jobs, self._jobs = self._jobs, []
            viewers = list(self._dirty.values())
            self._dirty.clear()
            self._busy = True
            return jobs, viewers

    def _run(self) -> None:
        while True:
            jobs, viewers = self._take()
            try:
                for job in jobs:
                    job()
                if viewers:
                    self._save(viewers)
            except Exception:  # a bug must not stop saving the next changes
                log.exception("saving ROIs failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

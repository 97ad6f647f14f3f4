"""Runs started and supervised inside a long-lived process: the host (``serve``, the web UI).

The host has everything imported already, so a run costs a thread and, for a decorated task, a
warm launcher (:mod:`.warm`). Runs are recorded in the same run store, with the same records, as
runs the CLI supervises itself; while a run goes on, anyone may follow its output as it arrives.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RunRefused
from .runner import GRACE_SECONDS, RunPlan, cancel_run, record_run
from .store import RunRecord, RunStore
from .supervise import supervise
from .warm import WarmPool

__all__ = ["RunService", "RunFeed", "OutputEvent"]

#: One piece of a run's output: (stream, text); None marks the end of the run.
OutputEvent = tuple[int, str] | None


@dataclass
class RunFeed:
    """A running run's live output, for whoever follows it."""

    run_id: str
    _followers: list[queue.Queue[OutputEvent]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ended: bool = False

    def follow(self) -> queue.Queue[OutputEvent]:
        """A queue that receives every piece of output from now on, then None at the end."""
        follower: queue.Queue[OutputEvent] = queue.Queue()
        with self._lock:
            if self._ended:
                follower.put(None)
            else:
                self._followers.append(follower)
        return follower

    def unfollow(self, follower: queue.Queue[OutputEvent]) -> None:
        """Stop receiving output on ``follower``."""
        with self._lock, contextlib.suppress(ValueError):
            self._followers.remove(follower)

    def publish(self, stream: int, text: str) -> None:
        """Hand a piece of output to every follower."""
        with self._lock:
            for follower in self._followers:
                follower.put((stream, text))

    def end(self) -> None:
        """The run has ended."""
        with self._lock:
            self._ended = True
            for follower in self._followers:
                follower.put(None)
            self._followers.clear()


class RunService:
    """Starts runs on threads of this process, each supervised until it ends."""

    def __init__(self, warm: WarmPool | None = None):
        self.warm = warm
        self._feeds: dict[str, RunFeed] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._stores: dict[str, Path] = {}
        self._lock = threading.Lock()

    def start(
        self, plan: RunPlan, store: RunStore, *, follow: bool = False
    ) -> tuple[RunRecord, queue.Queue[OutputEvent] | None]:
        """Record the run in ``store`` (RunBlocked while a blocking task runs) and start it on a thread
        (which opens its own connection to the store); returns its record as started and, when
        ``follow``, a queue that gets all of its output and then None."""
        run_id = record_run(plan, store)
        feed = RunFeed(run_id)
        follower = feed.follow() if follow else None
        thread = threading.Thread(
            target=self._supervise,
            args=(store.path, run_id, feed),
            name=f"osirix-run-{run_id}",
            daemon=True,
        )
        with self._lock:
            self._feeds[run_id] = feed
            self._threads[run_id] = thread
            self._stores[run_id] = store.path
        record = store.get(run_id)
        assert record is not None
        thread.start()
        return record, follower

    def _supervise(self, store_path: Path, run_id: str, feed: RunFeed) -> None:
        store = RunStore(store_path)
        try:
            supervise(store, run_id, echo=feed.publish, spawn=self.warm.spawn if self.warm else None)
        finally:
            feed.end()
            store.close()
            with self._lock:
                self._feeds.pop(run_id, None)
                self._threads.pop(run_id, None)
                self._stores.pop(run_id, None)

    def feed(self, run_id: str) -> RunFeed | None:
        """The live feed of a run this service supervises (None once it has ended)."""
        with self._lock:
            return self._feeds.get(run_id)

    def cancel(self, run_id: str, store: RunStore | None = None, grace: float = GRACE_SECONDS) -> RunRecord:
        """Stop a run and its whole process group (see :func:`cancel_run`); ``store`` may be left out for
        a run this service supervises (its own store is used)."""
        if store is not None:
            return cancel_run(store, run_id, grace=grace)
        with self._lock:
            store_path = self._stores.get(run_id)
        if store_path is None:
            raise RunRefused(f"run {run_id!r} is not supervised by this host - name its run store")
        own = RunStore(store_path)
        try:
            return cancel_run(own, run_id, grace=grace)
        finally:
            own.close()

    def running(self) -> list[str]:
        """Ids of the runs this service supervises now."""
        with self._lock:
            return list(self._feeds)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every run to end (used when the host shuts down)."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

"""The host starts runs itself: ``osirix-tasks run`` and the page ask it, and it supervises them.

A ``StartRun`` request names the task, the caller's registry, run store and environment, and maybe
a target; the host hands it to the one run service (:func:`osirix_tasks.run.start.start`) on its
own :class:`~osirix_tasks.run.service.RunService` (a thread per run, decorated tasks on a warm
launcher), resolving the task in its catalog cache, and streams the output back.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from ..contract import Target
from ..errors import OsirixTasksError
from ..run.record import RunRecord
from ..run.runner import base_environment
from ..run.service import RunService
from ..run.start import OnService, TaskRequest, start
from ..run.store import RunStore
from ..run.warm import WarmPool
from .catalogs import CatalogCache
from .control_protocol import RUN_ID_STREAM, Answer, CancelRun, OutputFrame, Reply, StartRun

__all__ = ["HostRuns"]


class HostRuns:
    """The host's run service, its catalogs, and its two control requests."""

    def __init__(self, *, warm: bool = True):
        self.service = RunService(WarmPool() if warm else None)
        self.catalogs = CatalogCache()

    def prime(self) -> None:
        """Have a warm launcher ready for decorated tasks on this host's own interpreter."""
        if self.service.warm is not None:
            self.service.warm.prime(sys.executable, base_environment(sys.executable, os.environ))

    def where(self, store: RunStore) -> OnService:
        """Where runs recorded in ``store`` start on this host (for :func:`~osirix_tasks.run.start.start`)."""
        return OnService(self.service, store, self.catalogs)

    def start(self, request: StartRun) -> Answer:
        """Start the requested run; stream its output unless it is a background run."""
        task = TaskRequest(
            name=request.name,
            registry=Path(request.registry),
            type=request.type,
            args=tuple(request.args),
            address=request.server,
            timeout=request.timeout,
            environ=request.environ,
            env=request.env,
        )
        try:
            target = Target.from_json(request.target) if request.target else None
        except (TypeError, ValueError) as exc:
            return Reply(ok=False, message=f"the run's target is not one: {exc}")
        store = RunStore(Path(request.store))
        if request.background:
            try:
                record = start(task, target, self.where(store))
            finally:
                store.close()
            return Reply(ok=True, message=record.id, data={"record": record.to_json()})
        return self._stream(task, target, store)

    def _stream(self, task: TaskRequest, target: Target | None, store: RunStore) -> Generator[OutputFrame | Reply]:
        """The run's id, its output as it arrives, then its final record (or why it did not start)."""
        events: queue.Queue[tuple[str, Any]] = queue.Queue()

        def run() -> None:
            try:
                final = self.where(store).start(
                    task,
                    target,
                    lambda stream, text: events.put(("output", (stream, text))),
                    on_start=lambda record: events.put(("id", record.id)),
                )
                events.put(("end", final))
            except OsirixTasksError as exc:
                events.put(("refused", str(exc)))
            except Exception as exc:  # noqa: BLE001 - the caller hears of it rather than waiting forever
                events.put(("refused", f"internal error: {type(exc).__name__}: {exc}"))
            finally:
                store.close()

        threading.Thread(target=run, name="osirix-run-stream", daemon=True).start()
        while True:
            kind, value = events.get()
            if kind == "id":
                yield OutputFrame(stream=RUN_ID_STREAM, text=value)
            elif kind == "output":
                yield OutputFrame(stream=value[0], text=value[1])
            elif kind == "refused":
                yield Reply(ok=False, message=value)
                return
            else:
                record: RunRecord = value
                yield Reply(ok=True, message=record.status, data={"record": record.to_json()})
                return

    def start_on_target(self, task: TaskRequest, target: Target) -> RunRecord:
        """Start ``task`` on ``target`` in the background through the run service, recorded in the
        user's run store (a DICOM node's trigger: ``task.triggered_by`` says which); its record as
        started. Raises as :func:`~osirix_tasks.run.start.start` does (RunBlocked, TaskNotFound ...)."""
        store = RunStore.default()
        try:
            return start(task, target, self.where(store))
        finally:
            store.close()

    def cancel(self, request: CancelRun) -> Reply:
        """Stop a run and its process group."""
        store = RunStore(Path(request.store)) if request.store else None
        try:
            record = self.service.cancel(request.run_id, store, request.grace)
        finally:
            if store is not None:
                store.close()
        return Reply(ok=True, message=f"run {record.id}: {record.status}", data={"record": record.to_json()})

    def stop_all(self, grace: float = 2.0) -> None:
        """Cancel every run still going (the host is shutting down), then stop the warm launchers."""
        for run_id in self.service.running():
            try:
                self.service.cancel(run_id, grace=grace)
            except Exception:  # noqa: BLE001 - shutting down: the other runs still get stopped
                continue
        if self.service.warm is not None:
            self.service.warm.close()

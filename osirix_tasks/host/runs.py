"""The host starts runs itself: ``osirix-tasks run`` and the web UI ask it, and it supervises them.

A request names the task and the caller's registry, run store and environment; the host resolves
the task in that registry's catalog, plans the run exactly as the CLI would, starts it on a thread
(decorated tasks on a warm launcher) and streams its output back.
"""

from __future__ import annotations

import json
import os
import queue
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

from ..contract import Env, Target
from ..model import TaskType
from ..run.runner import base_environment, plan_run
from ..run.service import OutputEvent, RunService
from ..run.store import RunRecord, RunStore
from ..run.warm import WarmPool
from .catalogs import CatalogCache
from .control_protocol import Answer, CancelRun, OutputFrame, Reply, StartRun

__all__ = ["HostRuns"]


class HostRuns:
    """The host's run service and its two control requests."""

    def __init__(self, *, warm: bool = True):
        self.service = RunService(WarmPool() if warm else None)
        self.catalogs = CatalogCache()

    def prime(self) -> None:
        """Have a warm launcher ready for decorated tasks on this host's own interpreter."""
        if self.service.warm is not None:
            self.service.warm.prime(sys.executable, base_environment(sys.executable, os.environ))

    def start(self, request: StartRun) -> Answer:
        """Start the requested run; stream its output unless it is a background run."""
        registry_path = Path(request.registry)
        catalog = self.catalogs.get(registry_path)
        entry = catalog.resolve(request.name, TaskType.parse(request.type) if request.type else None)
        plan = plan_run(
            entry.spec,
            server=request.server,
            args=request.args,
            registry=registry_path,
            plugins=catalog.plugins,
            timeout=request.timeout,
            background=request.background,
            environ=request.environ,
        )
        store_path = Path(request.store) if request.store else None
        record, follower = self.service.start(plan, store_path, follow=not request.background)
        if follower is None:
            return Reply(ok=True, message=record.id, data={"record": record.to_json()})
        return self._stream(record, follower, store_path)

    @staticmethod
    def _stream(
        record: RunRecord, follower: queue.Queue[OutputEvent], store_path: Path | None
    ) -> Generator[OutputFrame | Reply]:
        yield OutputFrame(stream=-1, text=record.id)  # the run's id first, so the caller can cancel it
        while (event := follower.get()) is not None:
            stream, text = event
            yield OutputFrame(stream=stream, text=text)
        store = RunStore(store_path)
        try:
            final = store.get(record.id)
        finally:
            store.close()
        assert final is not None
        yield Reply(ok=True, message=final.status, data={"record": final.to_json()})

    def start_on_target(
        self,
        registry: Path,
        name: str,
        type: str | None,
        target: Target,
        *,
        server: str | None,
        args: list[str] | None = None,
        timeout: float | None = None,
        triggered_by: dict[str, Any] | None = None,
    ) -> str:
        """Start a run of ``name`` on an explicit target in the background (a DICOM trigger); returns
        its id. The record says what triggered it. (The one call site to move to the run service's
        ``start(task, target, ...)`` when it exists.)"""
        catalog = self.catalogs.get(registry)
        entry = catalog.resolve(name, TaskType.parse(type) if type else None)
        plan = plan_run(
            entry.spec,
            server=server,
            args=list(args or []),
            registry=registry,
            plugins=catalog.plugins,
            timeout=timeout,
            background=True,
        )
        plan.env[Env.TARGET] = target.to_env()
        record, _ = self.service.start(plan, None)
        if triggered_by is not None:
            store = RunStore(None)
            try:
                store.update(record.id, triggered_by=json.dumps(triggered_by))
            finally:
                store.close()
        return record.id

    def cancel(self, request: CancelRun) -> Reply:
        """Stop a run and its process group."""
        record = self.service.cancel(request.run_id, Path(request.store) if request.store else None, request.grace)
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

"""Starting, listing and cancelling runs for the page: the one place the page starts a task.

The page lives in the host, so a menu click starts the run with the host's own run service: a
thread supervises it, and a decorated task starts on a warm launcher (everything imported). Without
a host (the page alone), a run is started with the runner's own API as a background run, exactly
as ``osirix-tasks run --background`` does. Either way it is recorded in the same run store.
"""

from __future__ import annotations

from typing import Any

from ..catalog import Catalog, CatalogEntry
from ..model import TaskSpec
from ..run.runner import cancel_run, plan_run, start_run
from ..run.service import RunService
from ..run.store import STREAM_NAMES, RunRecord, RunStore

__all__ = ["start_task", "cancel", "run_summary", "output_of"]


def start_task(
    entry: CatalogEntry, catalog: Catalog, store: RunStore, *, server: str, service: RunService | None = None
) -> RunRecord:
    """Start ``entry`` on the OsiriX at ``server`` (on ``service`` when the page lives in a host);
    RunRefused/RunBlocked when it cannot."""
    plan = plan_run(
        entry.spec,
        server=server,
        args=[],
        registry=catalog.registry.path,
        plugins=catalog.plugins,
        background=True,
    )
    if service is not None:
        record, _ = service.start(plan, store.path)
        return record
    return start_run(plan, store)


def cancel(store: RunStore, run_id: str, service: RunService | None = None) -> RunRecord:
    """Stop a run (SIGTERM to its process group, SIGKILL after the grace period)."""
    if service is not None:
        return service.cancel(run_id, store.path)
    return cancel_run(store, run_id)


def run_summary(record: RunRecord) -> dict[str, Any]:
    """What the console lists of a run."""
    spec = TaskSpec.model_construct(**record.spec) if record.spec else None
    return {
        "id": record.id,
        "task": record.task_name,
        "type": record.task_type,
        "location": spec.location if spec else "",
        "status": record.status,
        "finished": record.finished,
        "exit_code": record.exit_code,
        "signal": record.signal,
        "started": record.started,
        "ended": record.ended,
        "duration": record.duration,
        "blocking": record.blocking,
        "message": record.message,
    }


def output_of(store: RunStore, run_id: str, after_seq: int = -1) -> list[dict[str, Any]]:
    """A run's output chunks after ``after_seq``: sequence number, stream name and text."""
    return [
        {"seq": chunk.seq, "stream": STREAM_NAMES.get(chunk.stream, "system"), "text": chunk.text}
        for chunk in store.output(run_id, after_seq)
    ]

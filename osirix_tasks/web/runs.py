"""Starting, listing and cancelling runs for the page: the one place the page starts a task.

Today a run is planned and started with the runner's own API as a background run (a detached
supervisor records it in the run store, exactly as ``osirix-tasks run --background`` does); when
the host gets a run service of its own, :func:`start_task` is the function to switch over.
"""

from __future__ import annotations

from typing import Any

from ..catalog import Catalog, CatalogEntry
from ..model import TaskSpec
from ..run.runner import cancel_run, plan_run, start_run
from ..run.store import STREAM_NAMES, RunRecord, RunStore

__all__ = ["start_task", "cancel", "run_summary", "output_of"]


def start_task(entry: CatalogEntry, catalog: Catalog, store: RunStore, *, server: str) -> RunRecord:
    """Start ``entry`` on the OsiriX at ``server`` in the background; RunRefused/RunBlocked when it cannot."""
    plan = plan_run(
        entry.spec,
        server=server,
        args=[],
        registry=catalog.registry.path,
        plugins=catalog.plugins,
        background=True,
    )
    return start_run(plan, store)


def cancel(store: RunStore, run_id: str) -> RunRecord:
    """Stop a run (SIGTERM to its process group, SIGKILL after the grace period)."""
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

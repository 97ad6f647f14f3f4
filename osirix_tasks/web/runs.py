"""Starting, listing and cancelling runs for the page: the one place the page starts a task.

The page lives in the host, so a menu click starts the run through the one run service
(:func:`osirix_tasks.run.start.start`) on the host's own run service: a thread supervises it, and a
decorated task starts on a warm launcher (everything imported). Without a host (the page alone),
the run is started here as a background run, exactly as ``osirix-tasks run --background`` does.
Either way it is recorded in the same run store.
"""

from __future__ import annotations

from typing import Any

from ..catalog import CatalogEntry
from ..model import TaskSpec
from ..run.record import RunRecord
from ..run.runner import cancel_run
from ..run.service import RunService
from ..run.start import Here, TaskRequest, Where, start
from ..run.store import STREAM_NAMES, RunStore
from .page import Page

__all__ = ["start_task", "cancel", "run_summary", "output_of"]


def start_task(page: Page, entry: CatalogEntry) -> RunRecord:
    """Start ``entry`` in the background on the OsiriX the page shows; RunRefused/RunBlocked when it cannot."""
    task = TaskRequest(name=entry.spec.name, registry=page.registry, type=entry.spec.type.value, address=page.address())
    store = page.store()
    where: Where = page.host.runs.where(store) if page.host is not None else Here(store, page.catalogs)
    return start(task, None, where, follow=False)


def cancel(store: RunStore, run_id: str, service: RunService | None = None) -> RunRecord:
    """Stop a run (SIGTERM to its process group, SIGKILL after the grace period)."""
    if service is not None:
        return service.cancel(run_id, store)
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

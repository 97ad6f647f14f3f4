"""From a batch's task and one target to an item a worker can run.

Each item is started by the one run service (:func:`osirix_tasks.run.start.start`) with its target,
at :class:`~.on_cluster.OnCluster`: the service resolves the task and plans its run
(:func:`~osirix_tasks.run.start.plan_task`, then ``plan_run(..., target=...)``) exactly as a menu
click or ``osirix-tasks run --series`` plans it: same command, same environment (the target in
``OSIRIX_TASKS_TARGET``), same context hooks in the task's process. :func:`plan_batch_run` is the
one place a batch plans a run; :func:`item_spec` gives the planned run its id and makes it an item.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import Env, Target
from ..errors import BatchError, RunRefused, TaskNotFound
from ..model import RunStatus, TaskSpec, TaskType
from ..run.record import RunRecord
from ..run.runner import RunPlan
from ..run.start import CatalogSource, TaskRequest, plan_task
from ..run.store import RunStore
from .item import ItemSpec

__all__ = ["BatchOptions", "task_request", "plan_batch_run", "item_spec", "started_record", "check_task"]


@dataclass
class BatchOptions:
    """How a batch runs (kept with the batch, so a resume runs the same way)."""

    #: Items in flight at once (default: two per worker thread of the cluster: one running, one waiting).
    concurrency: int | None = None
    #: Seconds each item may run (default: the task's own timeout).
    timeout: float | None = None
    #: Further attempts for an item that failed, timed out or lost its worker.
    retries: int = 0
    #: ``tcp://HOST:PORT`` of an existing Dask scheduler; None: a local cluster sized to the machine.
    scheduler: str | None = None
    #: Dask resources each item needs (e.g. ``{"GPU": 1}``), passed to the scheduler as they are.
    resources: dict[str, float] = field(default_factory=dict)
    #: Arguments given to every item's task.
    args: list[str] = field(default_factory=list)
    #: Local workers of the default cluster (default: the machine's cores).
    workers: int | None = None
    #: Seconds between SIGTERM and SIGKILL when an item is stopped.
    grace: float = 5.0
    #: Ship the pixels with each item even when the workers could reach OsiriX (tasks with ``pixels=True``).
    ship_pixels: bool = False

    def to_json(self) -> dict[str, Any]:
        """The options as kept in the batch record."""
        return dict(vars(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BatchOptions:
        """Options read back from a batch record (unknown keys ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def check_task(spec: TaskSpec, targets: list[Target]) -> None:
    """BatchError when the task's type cannot take one of the targets (a study for an Image task)."""
    if spec.type == TaskType.DATABASE:
        return
    for target in targets:
        if not target.series and not target.viewer:
            raise BatchError(
                f"'{spec.name}' is a {spec.type.value} task and works on a series; the target {target.study} is a "
                'study - select its series instead (--where "study_uid=...")'
            )


def task_request(spec: TaskSpec, *, registry: Path, server: str | None, options: BatchOptions) -> TaskRequest:
    """What the run service is asked for each item of the batch (the same for every item)."""
    return TaskRequest(
        name=spec.name,
        registry=registry,
        type=spec.type.value,
        args=tuple(options.args),
        address=server,
        timeout=options.timeout,
        environ=os.environ,
    )


def plan_batch_run(task: TaskRequest, target: Target, catalogs: CatalogSource) -> RunPlan:
    """The run of one item, planned by the run service as any run on ``target`` is (the one place a
    batch plans a run); BatchError when it cannot start (interpreter or script missing)."""
    try:
        return plan_task(task, target, catalogs, background=True)
    except (RunRefused, TaskNotFound) as exc:
        raise BatchError(str(exc)) from None


def item_spec(plan: RunPlan, *, batch_id: str, index: int, attempt: int, grace: float) -> ItemSpec:
    """The item for one attempt: the planned run (its target in its environment already) with a new run id."""
    run_id = RunStore.new_id() + f"-{index}"
    plan.env[Env.RUN_ID] = run_id
    return ItemSpec(
        batch_id=batch_id,
        index=index,
        attempt=attempt,
        run_id=run_id,
        kind="script" if plan.spec.is_script else "decorated",
        command=plan.command,
        cwd=plan.cwd,
        env=plan.env,
        timeout=plan.timeout,
        grace=grace,
    )


def started_record(plan: RunPlan, item: ItemSpec) -> RunRecord:
    """The item's run as it starts (the driver records it in the run store when it comes back)."""
    return RunRecord(
        id=item.run_id,
        task_name=plan.spec.name,
        task_type=plan.spec.type.value,
        spec=plan.spec.to_json(),
        command=plan.command,
        cwd=plan.cwd,
        env=plan.env,
        server=plan.server,
        blocking=False,
        background=True,
        status=RunStatus.STARTING.value,
        pid=None,
        supervisor_pid=os.getpid(),
        started=time.time(),
        ended=None,
        exit_code=None,
        signal=None,
        cancelled=False,
        timed_out=False,
        timeout=plan.timeout,
        message=f"batch {item.batch_id} item {item.index} attempt {item.attempt}",
    )

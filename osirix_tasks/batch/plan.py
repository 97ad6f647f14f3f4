"""From a batch's task and one target to an item a worker can run.

The run itself is planned by the run service's planner (``plan_run``), exactly as a menu click or
``osirix-tasks run --series`` plans it: same command, same environment, same context hooks in the
task's process. :func:`plan_batch_run` is the one place a batch calls it (once per batch); each item
adds its target and run id, as ``plan_run(..., target=...)`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import Env, Target
from ..errors import BatchError, RunRefused
from ..model import TaskSpec, TaskType
from ..plugins import PluginSet
from ..run.runner import RunPlan, plan_run
from ..run.store import RunStore
from .item import ItemSpec

__all__ = ["BatchOptions", "plan_batch_run", "item_spec", "check_task"]


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


def plan_batch_run(
    spec: TaskSpec, *, server: str | None, registry: Path, plugins: PluginSet | None, options: BatchOptions
) -> RunPlan:
    """The run every item of the batch starts from: the run service's plan for the task (the one place a
    batch calls it); each item adds its target and run id (:func:`item_spec`)."""
    try:
        return plan_run(
            spec,
            server=server,
            args=list(options.args),
            registry=registry,
            plugins=plugins,
            timeout=options.timeout,
            background=True,
        )
    except RunRefused as exc:
        raise BatchError(str(exc)) from None


def item_spec(plan: RunPlan, target: Target, *, batch_id: str, index: int, attempt: int, grace: float) -> ItemSpec:
    """The item for one attempt on one target: the batch's plan with the target and a new run id, as
    ``plan_run(..., target=target)`` would give it."""
    run_id = RunStore.new_id() + f"-{index}"
    env = dict(plan.env)
    env[Env.TARGET] = target.to_env()
    env[Env.RUN_ID] = run_id
    return ItemSpec(
        batch_id=batch_id,
        index=index,
        attempt=attempt,
        run_id=run_id,
        kind="script" if plan.spec.is_script else "decorated",
        command=plan.command,
        cwd=plan.cwd,
        env=env,
        timeout=plan.timeout,
        grace=grace,
    )

"""The one way a run starts: ``start(task, target, where, follow)``.

Every entry point asks here: ``osirix-tasks run`` (CLI), a menu click on the page, a host's
``StartRun`` control request, the test kit's ``run_task`` and the batch runner (one call per item,
with its :class:`~osirix_tasks.contract.Target`). What differs between them is only *where* the run
is supervised:

- :class:`Here`: this process. With ``follow`` the run is supervised on the calling thread until it
  ends (Ctrl-C is forwarded to it); without, a detached supervisor process takes it and ``start``
  returns at once.
- :class:`OnService`: a :class:`~osirix_tasks.run.service.RunService` of this process (a host and
  its page): a thread supervises it, a decorated task starts on a warm launcher.
- a running host reached over its control channel (:class:`osirix_tasks.host.remote_runs.OnHost`):
  the host resolves, plans and supervises; its output comes back as it arrives.
- a worker of a batch's Dask cluster (:class:`osirix_tasks.batch.on_cluster.OnCluster`): the item
  runs in the worker's warm item process; the batch's driver records it when it comes back.

Each kind resolves the task in a catalog (one lookup: :meth:`Catalog.resolve
<osirix_tasks.catalog.Catalog.resolve>`) and plans it with :func:`plan_task` (which calls
:func:`~osirix_tasks.run.runner.plan_run`, putting the target in the task's environment) in the
process that supervises it (``OnHost``: the host, with its ``OnService``). ``Here`` and ``OnService``
record it as it starts in the run store they hold; a batch's driver records an item when it returns.

This module imports nothing heavy: the CLI's way to a host goes through it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..contract import Target

if TYPE_CHECKING:
    from ..catalog import Catalog
    from .record import RunRecord
    from .runner import RunPlan
    from .service import RunService
    from .store import RunStore

__all__ = [
    "TaskRequest",
    "Target",
    "Follow",
    "Where",
    "Here",
    "OnService",
    "CatalogSource",
    "start",
    "plan_task",
    "catalogs_of",
]

#: Output as it arrives: ``echo(stream, text)`` (stream 1 stdout, 2 stderr, 0 the runner's own lines).
Echo = Callable[[int, str], None]
#: ``False``: return once the run has started (it goes on without the caller: a background run).
#: ``True``: return when it has ended. An :data:`Echo`: the same, passing its output on as it arrives.
Follow = bool | Echo


@dataclass(frozen=True)
class TaskRequest:
    """Which task to run and how: the same for every entry point."""

    #: The task's name, and its type when the name is ambiguous (our names, the plugin's or codes 1-4).
    name: str
    #: The tasks.toml whose catalog has the task (builtin tasks and installed packs are in every one).
    registry: Path
    type: str | None = None
    #: Arguments after the task's own ``args`` (what follows ``--`` on the command line).
    args: tuple[str, ...] = ()
    #: The address of the OsiriX the task talks to (``127.0.0.1:PORT``; the task gets it as
    #: :attr:`Env.SERVER <osirix_tasks.contract.Env>`); None: none is known.
    address: str | None = None
    #: Seconds after which the run is stopped (default: the task's own timeout).
    timeout: float | None = None
    #: The environment of whoever asks (its HOME and inherited variables go to the run); None: this process's.
    environ: Mapping[str, str] | None = None
    #: Variables laid over the run's environment last (the test kit's home for pyosirix scripts).
    env: Mapping[str, str] = field(default_factory=dict)
    #: What started the run when a DICOM node's trigger did (the trigger, the study or series, the
    #: sender): the run's record keeps it. None: a person asked.
    triggered_by: Mapping[str, Any] | None = None


class CatalogSource(Protocol):
    """Where catalogs come from: a host's :class:`~osirix_tasks.host.catalogs.CatalogCache`, or a fixed one."""

    def get(self, registry: Path) -> Catalog:
        """The catalog of ``registry``."""


class Where(Protocol):
    """Who supervises a run; see the module docstring for the three kinds."""

    def start(self, task: TaskRequest, target: Target | None, follow: Follow) -> RunRecord:
        """Start ``task`` on ``target``; the record as started (``follow`` false) or as ended."""


def start(
    task: TaskRequest, target: Target | None = None, where: Where | None = None, follow: Follow = False
) -> RunRecord:
    """Start ``task`` on ``target`` (None: what the user looks at in OsiriX) at ``where`` (default:
    :class:`Here` with the user's run store), following it as ``follow`` says.

    Raises :class:`~osirix_tasks.errors.TaskNotFound` when no (single) task has that name,
    :class:`~osirix_tasks.errors.RunRefused` when it cannot start (interpreter or script missing),
    :class:`~osirix_tasks.errors.RunBlocked` while a blocking task runs.
    """
    if where is None:
        from .store import RunStore

        where = Here(RunStore.default())
    return where.start(task, target, follow)


class _Fixed:
    """A catalog given as it is (the CLI has built it already)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def get(self, registry: Path) -> Catalog:
        return self.catalog


class _Fresh:
    """A catalog built for each run (a process that starts one run)."""

    def get(self, registry: Path) -> Catalog:
        from ..catalog import build_catalog
        from ..registry import load_registry

        return build_catalog(load_registry(registry))


def plan_task(task: TaskRequest, target: Target | None, catalogs: CatalogSource, *, background: bool) -> RunPlan:
    """Resolve the task in its registry's catalog and plan its run on ``target`` (every kind of
    ``where`` but a host's plans here). TaskNotFound, or RunRefused when it cannot start."""
    from ..errors import TaskNotFound
    from ..model import TaskType
    from .runner import plan_run

    try:
        kind = TaskType.parse(task.type) if task.type is not None else None
    except ValueError as exc:
        raise TaskNotFound(f"task {task.name!r}: {exc}") from None
    catalog = catalogs.get(task.registry)
    entry = catalog.resolve(task.name, kind)
    plan = plan_run(
        entry.spec,
        server=task.address,
        args=list(task.args),
        registry=task.registry,
        plugins=catalog.plugins,
        timeout=task.timeout,
        background=background,
        environ=task.environ if task.environ is not None else os.environ,
        target=target,
    )
    plan.env.update(task.env)
    plan.triggered_by = dict(task.triggered_by) if task.triggered_by is not None else None
    return plan


def _echo(follow: Follow) -> Echo | None:
    return follow if callable(follow) else None


def catalogs_of(catalog: Catalog | CatalogSource | None) -> CatalogSource:
    """A catalog source from a built catalog, a source, or None (build one per run)."""
    if catalog is None:
        return _Fresh()
    if hasattr(catalog, "resolve"):
        return _Fixed(catalog)  # type: ignore[arg-type]
    return catalog


class Here:
    """This process supervises the run (foreground), or a detached supervisor process (background)."""

    def __init__(self, store: RunStore, catalog: Catalog | CatalogSource | None = None):
        self.store = store
        self.catalogs = catalogs_of(catalog)

    def start(self, task: TaskRequest, target: Target | None, follow: Follow) -> RunRecord:
        """Plan, record and start the run in this process (see :func:`start`)."""
        from .runner import start_run

        plan = plan_task(task, target, self.catalogs, background=not follow)
        return start_run(plan, self.store, echo=_echo(follow))


class OnService:
    """A run service of this process (a host) supervises the run on a thread."""

    def __init__(self, service: RunService, store: RunStore, catalog: Catalog | CatalogSource | None = None):
        self.service = service
        self.store = store
        self.catalogs = catalogs_of(catalog)

    def start(
        self,
        task: TaskRequest,
        target: Target | None,
        follow: Follow,
        on_start: Callable[[RunRecord], Any] | None = None,
    ) -> RunRecord:
        """Plan and record the run, start it on the service; with ``follow``, wait for its end here
        (``on_start`` hears of the record first: a host sends the run's id before its output)."""
        plan = plan_task(task, target, self.catalogs, background=not follow)
        record, follower = self.service.start(plan, self.store, follow=bool(follow))
        if on_start is not None:
            on_start(record)
        if follower is None:
            return record
        echo = _echo(follow)
        while (event := follower.get()) is not None:
            if echo is not None:
                echo(*event)
        final = self.store.get(record.id)
        assert final is not None
        return final

"""Run a task the way ``osirix-tasks run`` does, from a test, and get its record and output back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OsirixTasksError
from ..model import RunStatus, TaskSpec, TaskType
from ..run.store import STDERR, STDOUT, SYSTEM, RunRecord, RunStore

if TYPE_CHECKING:
    from ..plugins import PluginSet

__all__ = ["TaskResult", "run_task", "find_task"]


@dataclass(frozen=True)
class TaskResult:
    """A finished run: its record (as ``osirix-tasks runs`` shows it) and its output by stream."""

    record: RunRecord
    stdout: str
    stderr: str
    #: The runner's own lines (start, end, exit code) as the console shows them.
    system: str

    @property
    def status(self) -> RunStatus:
        """How the run ended."""
        return RunStatus(self.record.status)

    @property
    def exit_code(self) -> int | None:
        """The task process's exit code (None when it was killed by a signal or never started)."""
        return self.record.exit_code

    @property
    def ok(self) -> bool:
        """Whether the task ran to the end without error."""
        return self.status == RunStatus.SUCCEEDED and self.exit_code == 0

    def __str__(self) -> str:
        """A summary for assertion messages: status, exit code and the output."""
        parts = [f"run {self.record.id} of '{self.record.task_name}': {self.status.value}, exit code {self.exit_code}"]
        for label, text in (("stdout", self.stdout), ("stderr", self.stderr), ("runner", self.system)):
            if text:
                parts.append(f"--- {label} ---\n{text.rstrip()}")
        return "\n".join(parts)


def find_task(name: str, kind: TaskType | str | None, registry: Path) -> tuple[TaskSpec, PluginSet | None]:
    """The one task named ``name`` (of ``kind``) in the catalog of ``registry``, and the catalog's plugins."""
    from ..catalog import build_catalog
    from ..registry import load_registry

    wanted = TaskType.parse(kind) if kind is not None else None
    catalog = build_catalog(load_registry(registry))
    found = catalog.find(name, wanted)
    if not found:
        broken = [p for p in catalog.problems if f"task '{name}'" in p or "cannot be loaded" in p]
        known = ", ".join(sorted({f"{e.spec.name} ({e.spec.type.value})" for e in catalog.entries}))
        of_type = f" of type {wanted.value}" if wanted else ""
        detail = f"; problems: {'; '.join(broken)}" if broken else ""
        raise OsirixTasksError(
            f"no task named {name!r}{of_type} (registry {registry}){detail} - known tasks: {known}. "
            "Is the pack installed (pip install -e .)?"
        )
    if len(found) > 1:
        kinds = ", ".join(e.spec.type.value for e in found)
        raise OsirixTasksError(f"{len(found)} tasks are named {name!r} ({kinds}) - pass type=...")
    return found[0].spec, catalog.plugins


def run_task(
    name: str,
    *args: str,
    server: str,
    registry: Path,
    store: Path,
    kind: TaskType | str | None = None,
    timeout: float | None = 120,
    env: Mapping[str, str] | None = None,
) -> TaskResult:
    """Run the task ``name`` in the foreground through the real runner (plan, supervise, store), with
    ``args`` after ``--``, against ``server``; its run is kept in the run store at ``store``.

    ``env`` is laid over the run's environment (the runner's minimal one: HOME, PATH, the task's
    variables).
    """
    from ..run.runner import plan_run, start_run

    spec, plugins = find_task(name, kind, registry)
    plan = plan_run(spec, server=server, args=list(args), registry=registry, plugins=plugins, timeout=timeout)
    plan.env.update(env or {})
    runs = RunStore(store)
    try:
        record = start_run(plan, runs)
        chunks = list(runs.output(record.id))
    finally:
        runs.close()
    text = {stream: "".join(c.text for c in chunks if c.stream == stream) for stream in (STDOUT, STDERR, SYSTEM)}
    return TaskResult(record, text[STDOUT], text[STDERR], text[SYSTEM])

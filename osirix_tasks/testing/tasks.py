"""Run a task the way ``osirix-tasks run`` does, from a test, and get its record and output back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..contract import Target
from ..model import RunStatus, TaskType
from ..run.store import STDERR, STDOUT, SYSTEM, RunRecord, RunStore

__all__ = ["TaskResult", "run_task"]


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


def run_task(
    name: str,
    *args: str,
    server: str,
    registry: Path,
    store: Path,
    kind: TaskType | str | None = None,
    timeout: float | None = 120,
    env: Mapping[str, str] | None = None,
    target: Target | None = None,
) -> TaskResult:
    """Run the task ``name`` in the foreground through the real runner (plan, supervise, store), with
    ``args`` after ``--``, against ``server``; its run is kept in the run store at ``store``.

    ``env`` is laid over the run's environment (the runner's minimal one: HOME, PATH, the task's
    variables); ``target`` is what the run acts on (None: what is frontmost and selected), as a batch
    item gives it. The run starts through the one run service (:func:`osirix_tasks.run.start.start`).
    """
    from ..run.start import Here, TaskRequest, start

    task = TaskRequest(
        name=name,
        registry=registry,
        type=kind.value if isinstance(kind, TaskType) else kind,
        args=args,
        address=server,
        timeout=timeout,
        env=dict(env or {}),
    )
    runs = RunStore(store)
    try:
        record = start(task, target, Here(runs), follow=True)
        chunks = list(runs.output(record.id))
    finally:
        runs.close()
    text = {stream: "".join(c.text for c in chunks if c.stream == stream) for stream in (STDOUT, STDERR, SYSTEM)}
    return TaskResult(record, text[STDOUT], text[STDERR], text[SYSTEM])

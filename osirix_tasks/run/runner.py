"""Start a run: the command and environment, blocking/background, cancel.

A script task starts as the OsiriXgrpc plugin starts it: ``<interpreter> -u <script> [args]`` in
the script's folder, with a minimal environment (HOME and a PATH that puts the interpreter's
folder first) plus the variables of :class:`osirix_tasks.contract.Env` and what plugins add through
``osirix_tasks_environment``. A decorated task starts as ``<interpreter> -u -m osirix_tasks.run.launch``.

Each run has a supervisor (:mod:`osirix_tasks.run.supervise`): this process for a foreground run,
a detached ``python -m osirix_tasks.run.supervise`` for a background one.

Blocking tasks: OsiriX waits for them, so while one runs every other start is refused, naming
the blocking task and its run id (refusing, not queueing: a queued task would start later on
data the user has moved away from).
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..contract import INHERITED, Env
from ..errors import RunRefused
from ..model import RunStatus, TaskSpec
from ..plugins import PluginSet
from .store import RunRecord, RunStore, pid_alive
from .supervise import GRACE_SECONDS, Echo, signal_group, supervise

__all__ = ["RunPlan", "RunRefused", "plan_run", "start_run", "cancel_run", "GRACE_SECONDS"]

#: The PATH the plugin gives a script, after the interpreter's own folder.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"


@dataclass
class RunPlan:
    """Everything needed to start a run."""

    spec: TaskSpec
    command: list[str]
    cwd: str
    env: dict[str, str]
    server: str | None
    timeout: float | None
    background: bool = False
    args: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=16)
def _imports_osirix_tasks(interpreter: str, cwd: str) -> bool:
    """Whether ``interpreter``, started in ``cwd`` as the launcher will be, can import osirix_tasks."""
    if os.path.abspath(interpreter) == os.path.abspath(sys.executable):  # not realpath: venvs link one Python
        return True
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('osirix_tasks') is None)"
    try:
        return subprocess.run([interpreter, "-c", probe], capture_output=True, timeout=30, cwd=cwd).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def plan_run(
    spec: TaskSpec,
    *,
    server: str | None,
    args: list[str],
    registry: Path,
    plugins: PluginSet | None,
    timeout: float | None = None,
    background: bool = False,
) -> RunPlan:
    """The command, working folder and environment of a run; RunRefused when it cannot start."""
    interpreter = spec.interpreter
    if not (os.path.isfile(interpreter) and os.access(interpreter, os.X_OK)):
        raise RunRefused(
            f"task '{spec.name}': interpreter {interpreter} does not exist or is not executable - "
            "install it or change the task's interpreter"
        )
    arguments = [*spec.args, *args]
    if spec.is_script:
        if not os.path.isfile(spec.location):
            raise RunRefused(
                f"task '{spec.name}': script {spec.location} does not exist - restore it or remove the task"
            )
        command = [interpreter, "-u", spec.location, *arguments]
        cwd = os.path.dirname(spec.location)
    else:
        cwd = str(registry.parent) if registry.parent.is_dir() else os.getcwd()
        if not _imports_osirix_tasks(interpreter, cwd):
            raise RunRefused(
                f"task '{spec.name}' is a decorated task but {interpreter} cannot import osirix_tasks - "
                f"install it there: {interpreter} -m pip install osirix-tasks (or pip install -e "
                "this checkout)"
            )
        command = [
            interpreter,
            "-u",
            "-m",
            "osirix_tasks.run.launch",
            "--location",
            spec.location,
            "--type",
            spec.type.value,
            "--name",
            spec.name,
            "--registry",
            str(registry),
            "--",
            *arguments,
        ]
    env = {
        "HOME": os.environ.get("HOME", os.path.expanduser("~")),
        "PATH": f"{os.path.dirname(interpreter)}:{SYSTEM_PATH}",
        Env.TASK_NAME: spec.name,
        Env.TASK_TYPE: spec.type.value,
    }
    if server:
        env[Env.SERVER] = server
    for name in INHERITED:
        if name in os.environ:
            env[name] = os.environ[name]
    if plugins is not None:
        plugins.manager.hook.osirix_tasks_environment(task=spec, env=env)
    return RunPlan(
        spec, command, cwd, env, server, timeout if timeout is not None else spec.timeout, background, arguments
    )


def start_run(plan: RunPlan, store: RunStore, *, echo: Echo | None = None) -> RunRecord:
    """Record and start a run: supervised here (foreground) or by a detached supervisor (background).

    Raises RunBlocked while a blocking task runs.
    """
    run_id = store.new_id()
    plan.env[Env.RUN_ID] = run_id
    store.create(
        run_id,
        spec=plan.spec.to_json(),
        command=plan.command,
        cwd=plan.cwd,
        env=plan.env,
        server=plan.server,
        blocking=plan.spec.blocking,
        background=plan.background,
        timeout=plan.timeout,
    )
    if not plan.background:
        return supervise(store, run_id, echo=echo, forward_interrupt=True)
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "osirix_tasks.run.supervise", run_id, "--store", str(store.path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=dict(os.environ),
    )
    store.update(run_id, supervisor_pid=supervisor.pid)
    record = store.get(run_id)
    assert record is not None
    return record


def cancel_run(store: RunStore, run_id: str, *, grace: float = GRACE_SECONDS) -> RunRecord:
    """Stop a run's whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    record = store.get(run_id)
    if record is None:
        raise RunRefused(f"no run {run_id!r} - see 'osirix-tasks runs'")
    if record.finished and not (record.status == RunStatus.LOST and pid_alive(record.pid)):
        raise RunRefused(f"run {record.id} has already finished ({record.status})")
    store.update(record.id, cancelled=1)
    if record.pid:
        signal_group(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        current = store.get(record.id)
        if current is None or current.finished or not pid_alive(record.pid):
            break
        time.sleep(0.05)
    if record.pid and pid_alive(record.pid):
        signal_group(record.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = store.get(record.id)
        if current is not None and current.finished and current.status != RunStatus.LOST:
            return current
        if not pid_alive(record.supervisor_pid):  # nobody will record the end: we do
            store.update(
                record.id,
                status=RunStatus.CANCELLED.value,
                ended=time.time(),
                cancelled=1,
                message="cancelled; its supervisor had stopped",
            )
            break
        time.sleep(0.05)
    final = store.get(record.id)
    assert final is not None
    return final

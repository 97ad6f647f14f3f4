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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import INHERITED, Env, Target
from ..errors import RunRefused
from ..model import RunStatus, TaskSpec
from ..plugins import PluginSet
from .pyosirix_bridge import bridge_pyosirix
from .store import RunRecord, RunStore, pid_alive
from .supervise import GRACE_SECONDS, GROUP_KILLED, Echo, end_group, group_alive, signal_group, supervise

__all__ = [
    "RunPlan",
    "RunRefused",
    "base_environment",
    "plan_run",
    "record_run",
    "start_run",
    "cancel_run",
    "GRACE_SECONDS",
]

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
    #: What started the run when a DICOM node's trigger did (recorded with it); None: a person.
    triggered_by: dict[str, Any] | None = None


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


def base_environment(interpreter: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment every run of ``interpreter`` starts from, as the plugin gives it: HOME, a PATH
    with the interpreter's folder first, and the caller's :data:`~osirix_tasks.contract.INHERITED`."""
    env = {
        "HOME": environ.get("HOME", os.path.expanduser("~")),
        "PATH": f"{os.path.dirname(interpreter)}:{SYSTEM_PATH}",
    }
    for name in INHERITED:
        if name in environ:
            env[name] = environ[name]
    return env


def plan_run(
    spec: TaskSpec,
    *,
    server: str | None,
    args: list[str],
    registry: Path,
    plugins: PluginSet | None,
    timeout: float | None = None,
    background: bool = False,
    environ: Mapping[str, str] | None = None,
    target: Target | None = None,
) -> RunPlan:
    """The command, working folder and environment of a run; RunRefused when it cannot start.

    ``environ`` is the environment of whoever asked for the run (this process's by default): the
    run gets its HOME and the variables of :data:`~osirix_tasks.contract.INHERITED`, whichever
    process starts it. ``target`` is the run's explicit target (``Env.TARGET``); None for what the
    user looks at.
    """
    environ = os.environ if environ is None else environ
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
        if spec.file is not None:  # a function of a file: in the file's folder, as its script would run
            cwd = os.path.dirname(spec.file)
        else:
            cwd = str(registry.parent) if registry.parent.is_dir() else environ.get("PWD", os.getcwd())
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
    env = base_environment(interpreter, environ)
    env[Env.TASK_NAME] = spec.name
    env[Env.TASK_TYPE] = spec.type.value
    if server:
        env[Env.SERVER] = server
    if target is not None:
        env[Env.TARGET] = target.to_env()
    env.update(spec.env)
    if plugins is not None:
        plugins.manager.hook.osirix_tasks_environment(task=spec, env=env)
    if server and spec.is_script:
        bridge_pyosirix(env, server)
    return RunPlan(
        spec, command, cwd, env, server, timeout if timeout is not None else spec.timeout, background, arguments
    )


def record_run(plan: RunPlan, store: RunStore) -> str:
    """Give the run its id and record it as starting; RunBlocked while a blocking task runs."""
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
        triggered_by=plan.triggered_by,
    )
    return run_id


def start_run(plan: RunPlan, store: RunStore, *, echo: Echo | None = None) -> RunRecord:
    """Record and start a run in this process: supervised here (foreground) or by a detached
    supervisor process (background). A host of ours starts runs with :mod:`.service` instead.

    Raises RunBlocked while a blocking task runs.
    """
    run_id = record_run(plan, store)
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
    """Stop a run's whole process group: SIGTERM, then SIGKILL after ``grace`` seconds to whatever is
    left of the group, whatever its leader did."""
    record = store.get(run_id)
    if record is None:
        raise RunRefused(f"no run {run_id!r} - see 'osirix-tasks runs'")
    if record.finished and not (record.status == RunStatus.LOST and record.pid and group_alive(record.pid)):
        raise RunRefused(f"run {record.id} has already finished ({record.status})")
    store.update(record.id, cancelled=1)
    killed = False
    if record.pid:
        signal_group(record.pid, signal.SIGTERM)
        killed = end_group(record.pid, time.monotonic() + grace)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = store.get(record.id)
        if current is not None and current.finished and current.status != RunStatus.LOST:
            return current
        if not pid_alive(record.supervisor_pid):  # nobody will record the end: we do
            message = "cancelled; its supervisor had stopped"
            if killed:
                message += "; " + GROUP_KILLED.format(grace=grace)
            store.update(record.id, status=RunStatus.CANCELLED.value, ended=time.time(), cancelled=1, message=message)
            break
        time.sleep(0.05)
    final = store.get(record.id)
    assert final is not None
    return final

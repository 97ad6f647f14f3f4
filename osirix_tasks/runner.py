"""Start a run: the command and environment, output capture, blocking/background, cancel, timeout.

A script task starts as the OsiriXgrpc plugin starts it: ``<interpreter> -u <script> [args]`` in
the script's folder, with a minimal environment (HOME and a PATH that puts the interpreter's
folder first) plus ``OSIRIX_TASKS_SERVER``, ``OSIRIX_TASKS_RUN_ID`` and what plugins add through
``osirix_tasks_environment``. A decorated task starts as ``<interpreter> -u -m osirix_tasks.launch``.

Each run has a supervisor - this process for a foreground run, a detached ``python -m
osirix_tasks.supervise`` for a background one - that reads stdout and stderr as they arrive,
decodes them incrementally as UTF-8 (invalid bytes replaced), stores them in the console store,
enforces the timeout and records how the run ended. The task runs in its own process group, so
cancel and timeout stop everything it started: SIGTERM, then SIGKILL after a grace period.

Blocking tasks: OsiriX waits for them, so while one runs every other start is refused, naming
the blocking task and its run id (refusing, not queueing: a queued task would start later on
data the user has moved away from).
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .console import STDERR, STDOUT, SYSTEM, RunRecord, RunStore, StoreError, pid_alive
from .model import TaskSpec
from .plugins import PluginSet

__all__ = ["RunPlan", "RunRefused", "plan_run", "start_run", "supervise", "cancel_run", "GRACE_SECONDS",
           "EXIT_CONTEXT_UNAVAILABLE"]

GRACE_SECONDS = 5.0
#: The launcher's exit code when the task's objects are missing (no viewer open, no ROI selected ...).
EXIT_CONTEXT_UNAVAILABLE = 3
#: The PATH the plugin gives a script, after the interpreter's own folder.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
_FLUSH_SECONDS = 0.2
_FLUSH_BYTES = 1 << 20
_READ_BYTES = 1 << 18

Echo = Callable[[int, str], None]


class RunRefused(RuntimeError):
    """The run cannot start; the message says why and what to do."""


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


def plan_run(spec: TaskSpec, *, server: str | None, args: list[str], registry: Path, plugins: PluginSet | None,
             timeout: float | None = None, background: bool = False) -> RunPlan:
    """The command, working folder and environment of a run; RunRefused when it cannot start."""
    interpreter = spec.interpreter
    if not (os.path.isfile(interpreter) and os.access(interpreter, os.X_OK)):
        raise RunRefused(f"task '{spec.name}': interpreter {interpreter} does not exist or is not executable - "
                         "install it or change the task's interpreter")
    arguments = [*spec.args, *args]
    if spec.is_script:
        if not os.path.isfile(spec.location):
            raise RunRefused(f"task '{spec.name}': script {spec.location} does not exist - restore it or remove the "
                             "task")
        command = [interpreter, "-u", spec.location, *arguments]
        cwd = os.path.dirname(spec.location)
    else:
        cwd = str(registry.parent) if registry.parent.is_dir() else os.getcwd()
        if not _imports_osirix_tasks(interpreter, cwd):
            raise RunRefused(f"task '{spec.name}' is a decorated task but {interpreter} cannot import osirix_tasks - "
                             f"install it there: {interpreter} -m pip install osirix-tasks (or pip install -e "
                             "this checkout)")
        command = [interpreter, "-u", "-m", "osirix_tasks.launch", "--location", spec.location, "--type",
                   spec.type.value, "--name", spec.name, "--registry", str(registry), "--", *arguments]
    env = {
        "HOME": os.environ.get("HOME", os.path.expanduser("~")),
        "PATH": f"{os.path.dirname(interpreter)}:{SYSTEM_PATH}",
        "OSIRIX_TASKS_TASK_NAME": spec.name,
        "OSIRIX_TASKS_TASK_TYPE": spec.type.value,
    }
    if server:
        env["OSIRIX_TASKS_SERVER"] = server
    for name in ("OSIRIX_TASKS_HOME", "LANG", "LC_ALL", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        if name in os.environ:
            env[name] = os.environ[name]
    if plugins is not None:
        plugins.manager.hook.osirix_tasks_environment(task=spec, env=env)
    return RunPlan(spec, command, cwd, env, server, timeout if timeout is not None else spec.timeout, background,
                   arguments)


def start_run(plan: RunPlan, store: RunStore, *, echo: Echo | None = None) -> RunRecord:
    """Record and start a run: supervised here (foreground) or by a detached supervisor (background).

    Raises RunBlocked while a blocking task runs.
    """
    run_id = store.new_id()
    plan.env["OSIRIX_TASKS_RUN_ID"] = run_id
    store.create(run_id, spec=plan.spec.to_json(), command=plan.command, cwd=plan.cwd, env=plan.env,
                 server=plan.server, blocking=plan.spec.blocking, background=plan.background, timeout=plan.timeout)
    if not plan.background:
        return supervise(store, run_id, echo=echo, forward_interrupt=True)
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "osirix_tasks.supervise", run_id, "--store", str(store.path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=dict(os.environ))
    store.update(run_id, supervisor_pid=supervisor.pid)
    record = store.get(run_id)
    assert record is not None
    return record


class _Capture:
    """Reads a child's two pipes and stores what arrives (bounded memory, incremental UTF-8).

    Consecutive output of one stream is gathered as a list of pieces (joined once, when stored)
    and written at most every 0.2 s or 1 MB, so the store sees few, large rows.
    """

    def __init__(self, store: RunStore, run_id: str, echo: Echo | None):
        self.store, self.run_id, self.echo = store, run_id, echo
        self.pending: list[tuple[int, float, list[str]]] = []
        self.pending_bytes = 0
        self.seq = 0
        self.last_flush = time.monotonic()
        self.store_failed: str | None = None

    def add(self, stream: int, text: str) -> None:
        if not text:
            return
        if self.echo is not None:
            self.echo(stream, text)
        if self.pending and self.pending[-1][0] == stream:
            self.pending[-1][2].append(text)
        else:
            self.pending.append((stream, time.time(), [text]))
        self.pending_bytes += len(text)
        if self.pending_bytes >= _FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        chunks = [(stream, at, "".join(pieces)) for stream, at, pieces in self.pending]
        self.pending, self.pending_bytes = [], 0
        self.last_flush = time.monotonic()
        if self.store_failed:
            return
        try:
            self.seq = self.store.append(self.run_id, chunks, self.seq)
        except StoreError as exc:  # the run goes on; its output cannot be kept
            self.store_failed = str(exc)
            print(f"osirix-tasks: {exc}", file=sys.stderr)

    def maybe_flush(self) -> None:
        if self.pending and time.monotonic() - self.last_flush >= _FLUSH_SECONDS:
            self.flush()


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def supervise(store: RunStore, run_id: str, *, echo: Echo | None = None, forward_interrupt: bool = False,
              grace: float = GRACE_SECONDS) -> RunRecord:
    """Start the recorded run's process and capture it until it ends; returns the final record."""
    record = store.get(run_id)
    if record is None:
        raise RunRefused(f"no run {run_id} in {store.path}")
    capture = _Capture(store, run_id, echo)
    store.update(run_id, supervisor_pid=os.getpid())
    try:
        child = subprocess.Popen(record.command, cwd=record.cwd, env=record.env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        store.update(run_id, status="error", ended=time.time(), message=f"could not start: {exc}")
        capture.add(SYSTEM, f"Could not start the task: {exc}\n")
        capture.flush()
        final = store.get(run_id)
        assert final is not None
        return final
    try:
        store.update(run_id, pid=child.pid, status="running")
    except StoreError as exc:
        capture.store_failed = str(exc)
        print(f"osirix-tasks: {exc}", file=sys.stderr)
    capture.add(SYSTEM, f"Task started: {record.spec['location']} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    state: dict[str, Any] = {"cancelled": False, "timed_out": False, "kill_at": None}

    def stop(reason: str) -> None:
        if state["kill_at"] is None:
            state[reason] = True
            state["kill_at"] = time.monotonic() + grace
            _signal_group(child.pid, signal.SIGTERM)

    previous = None
    if forward_interrupt:
        def on_interrupt(signum: int, frame: Any) -> None:
            store.update(run_id, cancelled=1)
            stop("cancelled")

        previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        _pump(child, capture, store, run_id, record.timeout, stop, state)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    code = child.wait()
    current = store.get(run_id)
    cancelled = state["cancelled"] or bool(current and current.cancelled)
    if state["timed_out"]:
        status = "timed out"
    elif cancelled:
        status = "cancelled"
    else:
        status = "succeeded" if code == 0 else "failed"
    exit_code, signal_number = (code, None) if code >= 0 else (None, -code)
    ended = time.time()
    how = f"exit code {code}" if code >= 0 else f"signal {signal.Signals(-code).name}"
    if state["timed_out"]:
        how += f", stopped after its {record.timeout:g} s timeout"
    capture.add(SYSTEM, f"Task finished: {time.strftime('%Y-%m-%d %H:%M:%S')} ({how})\n")
    capture.flush()
    message = capture.store_failed or (f"timed out after {record.timeout:g} s" if state["timed_out"] else None)
    try:
        store.update(run_id, status=status, ended=ended, exit_code=exit_code, signal=signal_number,
                     cancelled=int(cancelled), timed_out=int(bool(state["timed_out"])), message=message)
    except StoreError as exc:  # the run happened; say so even though the store cannot keep it
        print(f"osirix-tasks: the end of run {run_id} could not be recorded: {exc}", file=sys.stderr)
        return replace(record, status=status, ended=ended, exit_code=exit_code, signal=signal_number,
                       cancelled=cancelled, timed_out=bool(state["timed_out"]), message=message)
    final = store.get(run_id)
    assert final is not None
    return final


def _pump(child: subprocess.Popen[bytes], capture: _Capture, store: RunStore, run_id: str, timeout: float | None,
          stop: Callable[[str], None], state: dict[str, Any]) -> None:
    selector = selectors.DefaultSelector()
    decoders = {}
    for stream, pipe in ((STDOUT, child.stdout), (STDERR, child.stderr)):
        assert pipe is not None
        os.set_blocking(pipe.fileno(), False)
        selector.register(pipe, selectors.EVENT_READ, stream)
        decoders[stream] = codecs.getincrementaldecoder("utf-8")(errors="replace")
    deadline = time.monotonic() + timeout if timeout else None
    next_poll = time.monotonic() + 0.5
    exited_at: float | None = None
    while selector.get_map():
        for key, _ in selector.select(timeout=0.1):
            stream = key.data
            try:
                data = os.read(key.fd, _READ_BYTES)
            except BlockingIOError:
                continue
            if data:
                capture.add(stream, decoders[stream].decode(data))
            else:
                capture.add(stream, decoders[stream].decode(b"", final=True))
                selector.unregister(key.fileobj)
                key.fileobj.close()  # type: ignore[union-attr]
        capture.maybe_flush()
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            stop("timed_out")
            deadline = None
        if now >= next_poll:
            next_poll = now + 0.5
            with contextlib.suppress(sqlite3.Error):
                current = store.get(run_id)
                if current is not None and current.cancelled:
                    stop("cancelled")
        if state["kill_at"] is not None and now >= state["kill_at"] and child.poll() is None:
            _signal_group(child.pid, signal.SIGKILL)
        if child.poll() is not None:
            exited_at = exited_at or now
            if now - exited_at > 1.0:  # something the task left behind holds the pipes: stop reading
                break
    for key in list(selector.get_map().values()):
        selector.unregister(key.fileobj)
        key.fileobj.close()  # type: ignore[union-attr]


def cancel_run(store: RunStore, run_id: str, *, grace: float = GRACE_SECONDS) -> RunRecord:
    """Stop a run's whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    record = store.get(run_id)
    if record is None:
        raise RunRefused(f"no run {run_id!r} - see 'osirix-tasks runs'")
    if record.finished and not (record.status == "lost" and pid_alive(record.pid)):
        raise RunRefused(f"run {record.id} has already finished ({record.status})")
    store.update(record.id, cancelled=1)
    if record.pid:
        _signal_group(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        current = store.get(record.id)
        if current is None or current.finished or not pid_alive(record.pid):
            break
        time.sleep(0.05)
    if record.pid and pid_alive(record.pid):
        _signal_group(record.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = store.get(record.id)
        if current is not None and current.finished and current.status != "lost":
            return current
        if not pid_alive(record.supervisor_pid):  # nobody will record the end: we do
            store.update(record.id, status="cancelled", ended=time.time(), cancelled=1,
                         message="cancelled; its supervisor had stopped")
            break
        time.sleep(0.05)
    final = store.get(record.id)
    assert final is not None
    return final

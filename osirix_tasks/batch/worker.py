"""What a Dask worker runs: one batch item, and the cancel of a batch's items.

A decorated task runs in a warm process this worker process keeps (:mod:`.item_child`): imports,
plugins and the connection to OsiriX are made once, an item costs a pipe round trip. A script runs as
the plugin runs it, a process of its own. Either way the item's process has its own process group:
a timeout or a cancel stops the whole group (SIGTERM, then SIGKILL after the grace period), and the
warm process is replaced for the next item.

Everything here runs on the worker; the driver sees only :class:`~.item.ItemOutcome`.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable

from ..contract import ExitCode
from ..model import RunStatus
from ..run.streams import SYSTEM
from ..run.supervise import start_process
from .item import ItemOutcome, ItemSpec
from .item_child import flat_record, write_frame
from .item_process import OutputKeeper, Watch, pump

__all__ = ["run_item", "cancel_batch", "worker_name", "WarmChild"]

_lock = threading.Lock()
#: Batches cancelled on this worker process (their items stop; new ones end at once).
_cancelled: set[str] = set()
#: Process groups running items, by batch.
_running: dict[str, set[int]] = {}
#: Warm processes for decorated tasks, by interpreter.
_children: dict[str, WarmChild] = {}


def worker_name() -> str:
    """The Dask worker running this (its address), else host:pid."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


class WarmChild:
    """A warm process (``python -m osirix_tasks.batch.item_child``) that runs item after item."""

    def __init__(self, interpreter: str, env: dict[str, str]):
        read_fd, self.result_write = os.pipe()
        self.result_fd = read_fd
        startup = {k: v for k, v in env.items() if k in ("HOME", "PATH", "LANG", "LC_ALL") or k.startswith("PYTHON")}
        self.process = subprocess.Popen(
            [interpreter, "-u", "-m", "osirix_tasks.batch.item_child", "--result-fd", str(self.result_write)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=startup,
            cwd="/",
            pass_fds=(self.result_write,),
            start_new_session=True,
        )
        os.close(self.result_write)

    def alive(self) -> bool:
        """Whether it can take an item."""
        return self.process.poll() is None

    def hand(self, spec: ItemSpec) -> None:
        """Give it the item (OSError when it has died)."""
        assert self.process.stdin is not None
        handoff = {"argv": spec.command[4:], "env": spec.env, "cwd": spec.cwd, "pixels": spec.pixels}
        write_frame(self.process.stdin, handoff)  # type: ignore[arg-type]

    def end(self) -> None:
        """Stop it and its group, and close its pipes."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        with contextlib.suppress(OSError):
            os.close(self.result_fd)


def _child_for(spec: ItemSpec) -> WarmChild:
    interpreter = spec.command[0]
    with _lock:
        child = _children.pop(interpreter, None)
    if child is not None and child.alive():
        return child
    if child is not None:
        child.end()
    return WarmChild(interpreter, spec.env)


def _tracked(spec: ItemSpec, pgid: int) -> Callable[[], None]:
    with _lock:
        _running.setdefault(spec.batch_id, set()).add(pgid)

    def untrack() -> None:
        with _lock:
            _running.get(spec.batch_id, set()).discard(pgid)

    return untrack


def _is_cancelled(batch_id: str) -> Callable[[], bool]:
    return lambda: batch_id in _cancelled


def _status(watch: Watch, code: int | None, sig: int | None) -> str:
    if watch.timed_out:
        return RunStatus.TIMED_OUT.value
    if watch.was_cancelled:
        return RunStatus.CANCELLED.value
    return RunStatus.SUCCEEDED.value if code == 0 and sig is None else RunStatus.FAILED.value


def _run_decorated(spec: ItemSpec, keeper: OutputKeeper, watch: Watch) -> tuple[int | None, int | None]:
    child = _child_for(spec)
    untrack = _tracked(spec, child.process.pid)
    try:
        try:
            child.hand(spec)
        except OSError:  # it died while waiting: one more try with a new one
            child.end()
            child = WarmChild(spec.command[0], spec.env)
            untrack()
            untrack = _tracked(spec, child.process.pid)
            child.hand(spec)
        pump(child.process, keeper, watch, result_fd=child.result_fd)
    finally:
        untrack()
    if watch.result is not None and watch.kill_at is None:
        with _lock:
            previous = _children.pop(spec.command[0], None)
            _children[spec.command[0]] = child
        if previous is not None:
            previous.end()
        keeper.result = watch.result.get("result")
        keeper.writes = list(watch.result.get("writes") or ())
        return int(watch.result["exit_code"]), None
    code = child.process.poll()
    child.end()
    if code is None or code < 0:
        return None, -(code or 0) or signal.SIGKILL
    return code, None


def _run_script(spec: ItemSpec, keeper: OutputKeeper, watch: Watch) -> tuple[int | None, int | None]:
    process = start_process(spec)  # as the run service starts a script: its own group, pipes
    untrack = _tracked(spec, process.pid)
    try:
        pump(process, keeper, watch)
        code = process.wait()
        if watch.kill_at is not None:  # whatever is left of its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
    finally:
        untrack()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    keeper.result = _script_record(keeper)
    return (code, None) if code >= 0 else (None, -code)


def _script_record(keeper: OutputKeeper) -> dict[str, object] | None:
    line = keeper.last_line()
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    record, problem = flat_record(value)
    if problem:
        keeper.add(SYSTEM, f"osirix-tasks: {problem}\n")
    return record


def run_item(spec: ItemSpec) -> ItemOutcome:
    """Run one item here and say how it ended (never raises for the task's own failures)."""
    started = time.time()
    keeper = OutputKeeper()
    watch = Watch(spec.timeout, _is_cancelled(spec.batch_id), grace=spec.grace)
    message = None
    if spec.batch_id in _cancelled:
        code, sig = None, None
        watch.was_cancelled = True
    else:
        try:
            runner = _run_decorated if spec.kind == "decorated" else _run_script
            code, sig = runner(spec, keeper, watch)
        except OSError as exc:
            keeper.add(SYSTEM, f"Could not start the task: {exc}\n")
            code, sig, message = ExitCode.TASK_FAILED, None, f"could not start: {exc}"
    keeper.finish()
    status = RunStatus.ERROR.value if message else _status(watch, code, sig)
    if watch.timed_out:
        message = f"timed out after {spec.timeout:g} s"
    return ItemOutcome(
        batch_id=spec.batch_id,
        index=spec.index,
        attempt=spec.attempt,
        run_id=spec.run_id,
        status=status,
        exit_code=code,
        signal=sig,
        started=started,
        ended=time.time(),
        worker=worker_name(),
        output=keeper.pieces,
        output_dropped=keeper.dropped,
        result=keeper.result if status == RunStatus.SUCCEEDED.value else None,
        message=message,
        writes=keeper.writes if status == RunStatus.SUCCEEDED.value else [],
    )


def cancel_batch(batch_id: str) -> int:
    """Stop every item of the batch on this worker process, and refuse its items from now on
    (meant for ``client.run``); returns how many were running."""
    with _lock:
        _cancelled.add(batch_id)
        groups = list(_running.get(batch_id, ()))
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    return len(groups)


def close_children() -> None:
    """Stop the warm processes of this worker process (at exit)."""
    with _lock:
        children = list(_children.values())
        _children.clear()
    for child in children:
        child.end()


atexit.register(close_children)  # the warm processes go with the worker process

"""A run's supervisor: start the recorded command, capture its output, enforce timeout and cancel.

The supervisor reads stdout and stderr as they arrive, decodes them incrementally as UTF-8 (invalid
bytes replaced), stores them in the run store, enforces the timeout and records how the run ended.
The task runs in its own process group, so cancel and timeout stop everything it started: SIGTERM,
then SIGKILL after a grace period.

A background run's supervisor is this module as a detached process:
``python -m osirix_tasks.run.supervise RUN_ID --store PATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import RunRefused, StoreError
from ..model import RunStatus
from .capture import Echo, OutputCapture
from .store import STDERR, STDOUT, SYSTEM, RunRecord, RunStore

__all__ = ["supervise", "start_process", "signal_group", "group_alive", "end_group", "GRACE_SECONDS", "Echo", "main"]

GRACE_SECONDS = 5.0
_READ_BYTES = 1 << 20
#: Pipe buffer asked of the kernel (Linux): the task writes big blocks without waiting for us.
_PIPE_BYTES = 1 << 20

#: The run's output keeper (decoding, batches, cap, writer thread): see .capture.
_Capture = OutputCapture


#: What a run's record says when processes of its group outlived SIGTERM and were killed.
GROUP_KILLED = "processes of its process group still ran {grace:g} s after SIGTERM and were killed (SIGKILL)"


def group_alive(pgid: int) -> bool:
    """Whether any process of the group ``pgid`` still exists (zombies included)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def end_group(pgid: int, kill_at: float) -> bool:
    """After SIGTERM: wait until the group is gone or ``kill_at`` (monotonic) passes, then SIGKILL
    whatever is left, whatever the leader did. Returns True when SIGKILL was needed.

    A process that called ``setsid`` has left the group and is out of reach.
    """
    while group_alive(pgid):
        if time.monotonic() >= kill_at:
            signal_group(pgid, signal.SIGKILL)
            return True
        time.sleep(0.05)
    return False


def signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group led by ``pid`` (gone or foreign groups are ignored)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def start_process(record: RunRecord) -> subprocess.Popen[bytes]:
    """Start the recorded command as its own process group, stdout and stderr piped."""
    return subprocess.Popen(
        record.command,
        cwd=record.cwd,
        env=record.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _tolerant(echo: Echo | None) -> Echo | None:
    """``echo`` that stops echoing, instead of failing the run, once its reader is gone
    (``osirix-tasks run ... | head``): the output still goes to the store."""
    if echo is None:
        return None
    alive = [True]

    def call(stream: int, text: str) -> None:
        if alive[0]:
            try:
                echo(stream, text)
            except OSError:  # BrokenPipeError and friends
                alive[0] = False

    return call


def supervise(
    store: RunStore,
    run_id: str,
    *,
    echo: Echo | None = None,
    forward_interrupt: bool = False,
    grace: float = GRACE_SECONDS,
    spawn: Callable[[RunRecord], subprocess.Popen[bytes]] | None = None,
) -> RunRecord:
    """Start the recorded run's process and capture it until it ends; returns the final record."""
    record = store.get(run_id)
    if record is None:
        raise RunRefused(f"no run {run_id} in {store.path}")
    capture = _Capture(store, run_id, _tolerant(echo))
    store.update(run_id, supervisor_pid=os.getpid())
    try:
        child = (spawn or start_process)(record)
    except OSError as exc:
        store.update(run_id, status=RunStatus.ERROR.value, ended=time.time(), message=f"could not start: {exc}")
        capture.add(SYSTEM, f"Could not start the task: {exc}\n")
        capture.flush()
        capture.done()
        final = store.get(run_id)
        assert final is not None
        return final
    try:
        store.update(run_id, pid=child.pid, status=RunStatus.RUNNING.value)
    except StoreError as exc:
        capture.store_failed = str(exc)
        print(f"osirix-tasks: {exc}", file=sys.stderr)
    capture.add(SYSTEM, f"Task started: {record.spec['location']} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    state: dict[str, Any] = {"cancelled": False, "timed_out": False, "kill_at": None}

    def stop(reason: str) -> None:
        if state["kill_at"] is None:
            state[reason] = True
            state["kill_at"] = time.monotonic() + grace
            signal_group(child.pid, signal.SIGTERM)

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
    group_killed = state["kill_at"] is not None and end_group(child.pid, state["kill_at"])
    current = store.get(run_id)
    cancelled = state["cancelled"] or bool(current and current.cancelled)
    if state["timed_out"]:
        status = RunStatus.TIMED_OUT
    elif cancelled:
        status = RunStatus.CANCELLED
    else:
        status = RunStatus.SUCCEEDED if code == 0 else RunStatus.FAILED
    exit_code, signal_number = (code, None) if code >= 0 else (None, -code)
    ended = time.time()
    how = f"exit code {code}" if code >= 0 else f"signal {signal.Signals(-code).name}"
    if state["timed_out"]:
        how += f", stopped after its {record.timeout:g} s timeout"
    if group_killed:
        how += f"; {GROUP_KILLED.format(grace=grace)}"
    capture.add(SYSTEM, f"Task finished: {time.strftime('%Y-%m-%d %H:%M:%S')} ({how})\n")
    capture.flush()
    reasons = [f"timed out after {record.timeout:g} s"] if state["timed_out"] else []
    if group_killed:
        reasons.append(GROUP_KILLED.format(grace=grace))
    message = capture.store_failed or ("; ".join(reasons) or None)
    try:
        store.update(
            run_id,
            status=status.value,
            ended=ended,
            exit_code=exit_code,
            signal=signal_number,
            cancelled=int(cancelled),
            timed_out=int(bool(state["timed_out"])),
            message=message,
        )
    except StoreError as exc:  # the run happened; say so even though the store cannot keep it
        print(f"osirix-tasks: the end of run {run_id} could not be recorded: {exc}", file=sys.stderr)
        capture.done()
        return replace(
            record,
            status=status.value,
            ended=ended,
            exit_code=exit_code,
            signal=signal_number,
            cancelled=cancelled,
            timed_out=bool(state["timed_out"]),
            message=message,
        )
    capture.done()
    final = store.get(run_id)
    assert final is not None
    return final


def _pump(
    child: subprocess.Popen[bytes],
    capture: _Capture,
    store: RunStore,
    run_id: str,
    timeout: float | None,
    stop: Callable[[str], None],
    state: dict[str, Any],
) -> None:
    selector = selectors.DefaultSelector()
    for stream, pipe in ((STDOUT, child.stdout), (STDERR, child.stderr)):
        assert pipe is not None
        os.set_blocking(pipe.fileno(), False)
        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux: a larger pipe, fewer wake-ups on both sides
            with contextlib.suppress(OSError):
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        selector.register(pipe, selectors.EVENT_READ, stream)
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
                capture.add_bytes(stream, data)
            else:
                capture.end(stream)
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
            signal_group(child.pid, signal.SIGKILL)
        if child.poll() is not None:
            exited_at = exited_at or now
            if now - exited_at > 1.0:  # something the task left behind holds the pipes: stop reading
                break
    for key in list(selector.get_map().values()):
        capture.end(key.data)
        selector.unregister(key.fileobj)
        key.fileobj.close()  # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> int:
    """Supervise one recorded run until it ends."""
    parser = argparse.ArgumentParser(prog="python -m osirix_tasks.run.supervise")
    parser.add_argument("run_id")
    parser.add_argument("--store", required=True)
    options = parser.parse_args(argv)
    store = RunStore(Path(options.store))
    supervise(store, options.run_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())

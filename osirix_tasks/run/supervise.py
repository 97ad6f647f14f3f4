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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from ..errors import RunRefused, StoreError
from ..model import RunStatus
from .capture import Echo, OutputCapture
from .store import STDERR, STDOUT, SYSTEM, RunRecord, RunStore

__all__ = [
    "lost_output_message",
    "supervise",
    "start_process",
    "signal_group",
    "group_alive",
    "end_group",
    "GRACE_SECONDS",
    "Echo",
    "main",
]

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


class Launch(Protocol):
    """What starting a task's process needs: a run's record, or a batch item."""

    @property
    def command(self) -> list[str]: ...

    @property
    def cwd(self) -> str: ...

    @property
    def env(self) -> dict[str, str]: ...


def start_process(record: Launch) -> subprocess.Popen[bytes]:
    """Start the recorded command as its own process group, stdout and stderr piped (a run's, or a
    batch item's on its worker)."""
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


@dataclass
class _Stopping:
    """How a run is being stopped: why (cancel or timeout) and when SIGKILL follows SIGTERM."""

    pid: int
    grace: float
    cancelled: bool = False
    timed_out: bool = False
    kill_at: float | None = None

    def stop(self, reason: str) -> None:
        """SIGTERM to the task's group, once; ``reason`` is ``cancelled`` or ``timed_out``."""
        if self.kill_at is None:
            setattr(self, reason, True)
            self.kill_at = time.monotonic() + self.grace
            signal_group(self.pid, signal.SIGTERM)


@contextlib.contextmanager
def _interrupts_cancel(forward: bool, store: RunStore, run_id: str, stopping: _Stopping) -> Iterator[None]:
    """While the block runs, Ctrl-C cancels the run (when ``forward``)."""
    if not forward:
        yield
        return

    def on_interrupt(signum: int, frame: Any) -> None:
        store.update(run_id, cancelled=1)
        stopping.stop("cancelled")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
        return _not_started(store, run_id, capture, exc)
    try:
        store.update(run_id, pid=child.pid, status=RunStatus.RUNNING.value, seen=time.time())
    except StoreError as exc:
        capture.store_failed = str(exc)
        print(f"osirix-tasks: {exc}", file=sys.stderr)
    capture.add(SYSTEM, f"Task started: {record.spec['location']} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    stopping = _Stopping(child.pid, grace)
    with _interrupts_cancel(forward_interrupt, store, run_id, stopping):
        _pump(child, capture, store, run_id, record.timeout, stopping)
    code = child.wait()
    group_killed = stopping.kill_at is not None and end_group(child.pid, stopping.kill_at)
    current = store.get(run_id)
    end = _End.of(code, stopping, bool(current and current.cancelled), record.timeout, group_killed)
    capture.add(SYSTEM, f"Task finished: {time.strftime('%Y-%m-%d %H:%M:%S')} ({end.how})\n")
    capture.flush()
    return _record_end(store, record, capture, end)


def _not_started(store: RunStore, run_id: str, capture: _Capture, exc: OSError) -> RunRecord:
    store.update(run_id, status=RunStatus.ERROR.value, ended=time.time(), message=f"could not start: {exc}")
    capture.add(SYSTEM, f"Could not start the task: {exc}\n")
    capture.flush()
    capture.done()
    final = store.get(run_id)
    assert final is not None
    return final


@dataclass(frozen=True)
class _End:
    """How a run ended, as its record and its last console line say it."""

    status: RunStatus
    exit_code: int | None
    signal: int | None
    cancelled: bool
    timed_out: bool
    how: str
    reasons: tuple[str, ...]

    @classmethod
    def of(cls, code: int, stopping: _Stopping, cancelled: bool, timeout: float | None, group_killed: bool) -> _End:
        """The end of a run whose process exited with ``code`` (negative: killed by that signal)."""
        cancelled = stopping.cancelled or cancelled
        if stopping.timed_out:
            status = RunStatus.TIMED_OUT
        elif cancelled:
            status = RunStatus.CANCELLED
        else:
            status = RunStatus.SUCCEEDED if code == 0 else RunStatus.FAILED
        how = f"exit code {code}" if code >= 0 else f"signal {signal.Signals(-code).name}"
        reasons = [f"timed out after {timeout:g} s"] if stopping.timed_out else []
        if stopping.timed_out:
            how += f", stopped after its {timeout:g} s timeout"
        if group_killed:
            how += f"; {GROUP_KILLED.format(grace=stopping.grace)}"
            reasons.append(GROUP_KILLED.format(grace=stopping.grace))
        exit_code, signal_number = (code, None) if code >= 0 else (None, -code)
        return cls(status, exit_code, signal_number, cancelled, stopping.timed_out, how, tuple(reasons))


def lost_output_message(lost: int, why: str | None) -> str:
    """What a run's record says when its output could not all be stored."""
    return f"{lost} bytes of output could not be stored and are lost ({why or 'the run store failed'})"


def _update_making_room(store: RunStore, run_id: str, fields: dict[str, Any]) -> None:
    """``store.update`` of a run's end; when it fails (a full disk), once more after emptying the
    write-ahead log on a new connection (a passive checkpoint cannot empty it while a reader lingers,
    and a connection that met an I/O error may keep failing)."""
    try:
        store.update(run_id, **fields)
        return
    except StoreError:
        pass
    fresh = RunStore(store.path)  # a connection that saw no I/O error
    try:
        with contextlib.suppress(sqlite3.Error):
            fresh.make_room()
        fresh.update(run_id, **fields)
    finally:
        fresh.close()


def _record_end(store: RunStore, record: RunRecord, capture: _Capture, end: _End) -> RunRecord:
    """Record how the run ended, saying truthfully what of its output was lost; when even that cannot
    be stored, say so on stderr and return the record as it should have been."""
    lost = capture.lost_bytes
    reasons = list(end.reasons)
    if capture.store_failed:
        reasons.insert(0, lost_output_message(lost, capture.store_failed))
    fields: dict[str, Any] = {
        "status": end.status.value,
        "ended": time.time(),
        "exit_code": end.exit_code,
        "signal": end.signal,
        "cancelled": int(end.cancelled),
        "timed_out": int(end.timed_out),
        "message": "; ".join(reasons) or None,
        "output_lost": lost,
    }
    if capture.store_failed:
        capture.done()  # the write-ahead log is copied and restarts: room for the end, if any is left
    try:
        _update_making_room(store, record.id, fields)
    except StoreError as exc:  # the run happened; say so even though the store cannot keep it
        print(f"osirix-tasks: the end of run {record.id} could not be recorded: {exc}", file=sys.stderr)
        capture.done()
        fields.update(cancelled=end.cancelled, timed_out=end.timed_out)
        return replace(record, **fields)
    capture.done()
    final = store.get(record.id)
    assert final is not None
    return final


def _watch_pipes(child: subprocess.Popen[bytes]) -> selectors.BaseSelector:
    """A selector on the task's stdout and stderr (non-blocking, with larger pipe buffers on Linux)."""
    selector = selectors.DefaultSelector()
    for stream, pipe in ((STDOUT, child.stdout), (STDERR, child.stderr)):
        assert pipe is not None
        os.set_blocking(pipe.fileno(), False)
        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux: a larger pipe, fewer wake-ups on both sides
            with contextlib.suppress(OSError):
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        selector.register(pipe, selectors.EVENT_READ, stream)
    return selector


def _read_ready(selector: selectors.BaseSelector, capture: _Capture) -> None:
    """Read what the task wrote (waiting up to 0.1 s); a pipe at its end is closed."""
    for key, _ in selector.select(timeout=0.1):
        try:
            data = os.read(key.fd, _READ_BYTES)
        except BlockingIOError:
            continue
        if data:
            capture.add_bytes(key.data, data)
        else:
            _close_pipe(selector, key, capture)


def _close_pipe(selector: selectors.BaseSelector, key: selectors.SelectorKey, capture: _Capture) -> None:
    capture.end(key.data)
    selector.unregister(key.fileobj)
    key.fileobj.close()  # type: ignore[union-attr]


def _cancel_asked(store: RunStore, run_id: str) -> bool:
    """Whether someone asked the store to cancel the run (``osirix-tasks cancel``, the page)."""
    with contextlib.suppress(sqlite3.Error):
        current = store.get(run_id)
        return current is not None and current.cancelled
    return False


def _pump(
    child: subprocess.Popen[bytes],
    capture: _Capture,
    store: RunStore,
    run_id: str,
    timeout: float | None,
    stopping: _Stopping,
) -> None:
    """Capture the task's output until both pipes end (or, once the task has exited, for one more
    second: something it left behind may hold them), enforcing its timeout and cancel."""
    selector = _watch_pipes(child)
    deadline = time.monotonic() + timeout if timeout else None
    next_poll = time.monotonic() + 0.5
    exited_at: float | None = None
    while selector.get_map():
        _read_ready(selector, capture)
        capture.maybe_flush()
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            stopping.stop("timed_out")
            deadline = None
        if now >= next_poll:
            next_poll = now + 0.5
            if _cancel_asked(store, run_id):
                stopping.stop("cancelled")
        if stopping.kill_at is not None and now >= stopping.kill_at and child.poll() is None:
            signal_group(child.pid, signal.SIGKILL)
        if child.poll() is not None:
            exited_at = exited_at or now
            if now - exited_at > 1.0:
                break
    for key in list(selector.get_map().values()):
        _close_pipe(selector, key, capture)


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

"""Start ``osirix-tasks serve`` as a separate process and wait until it serves.

The one way every caller starts a host in a process of its own: the CLI (``servers start``, ``demo``,
``ui``), the test kit and the benchmarks; ``serve`` there assembles it with ``run_host``. The host's
output goes to a log file (so it never blocks on a full pipe and outlives the caller), which is read
to learn its ports and when it is ready.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._support.private import open_private
from ..errors import HostStartError
from .config import HostConfig
from .control import HostInfo, live_hosts

__all__ = ["READY_LINE", "SpawnedHost", "HostStartError", "spawn_host"]

#: The last line ``serve`` prints once every port is served and the control channel is open.
READY_LINE = "Press Ctrl-C to stop."
_LISTENING = re.compile(r"^Listening on 127\.0\.0\.1:(\d+)\s*$")


@dataclass
class SpawnedHost:
    """A running ``osirix-tasks serve`` process started by :func:`spawn_host`."""

    process: subprocess.Popen[bytes]
    log_path: Path
    ports: list[int] = field(default_factory=list)
    info: HostInfo | None = None

    @property
    def pid(self) -> int:
        """The host's process id."""
        return self.process.pid

    def output(self) -> str:
        """Everything the host has printed so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit code."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def spawn_host(
    config: HostConfig | Sequence[str],
    *,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    timeout: float = 90.0,
    detach: bool = True,
    interpreter: str | None = None,
) -> SpawnedHost:
    """Run ``osirix-tasks serve`` with ``config`` (a :class:`HostConfig`, or ``serve``'s own options as
    given on a command line) and return once it is ready: the process calls
    :func:`~osirix_tasks.host.assemble.run_host` with the same config.

    ``detach`` puts the host in its own session, so it outlives the caller and a Ctrl-C in the
    caller's terminal does not reach it. Raises HostStartError with its output when it exits or
    is not ready within ``timeout`` seconds (it is killed then). ``interpreter``: the Python that runs
    it (default: this one).
    """
    if log_path is None:
        descriptor, name = tempfile.mkstemp(prefix="osirix-tasks-serve-", suffix=".log")
        os.close(descriptor)
        log_path = Path(name)
    serve_args = config.serve_args() if isinstance(config, HostConfig) else list(config)
    command = [interpreter or sys.executable, "-m", "osirix_tasks", "serve", *serve_args]
    with os.fdopen(open_private(log_path), "wb") as log:  # the host's output may name patients: 0600
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env if env is not None else dict(os.environ),
            start_new_session=detach,
        )
    host = SpawnedHost(process, log_path)
    try:
        _wait_ready(host, env, time.monotonic() + timeout, timeout)
    except BaseException:  # not ready, or the caller was interrupted (Ctrl-C, SIGTERM): no host left behind
        host.stop(timeout=5)
        raise
    return host


def _wait_ready(host: SpawnedHost, env: dict[str, str] | None, deadline: float, timeout: float) -> None:
    while True:
        text = host.output()
        lines = text.splitlines()
        if READY_LINE in lines:
            host.ports = [int(m.group(1)) for line in lines if (m := _LISTENING.match(line))]
            host.info = _find_info(host.pid, env)
            return
        if host.process.poll() is not None:
            raise HostStartError(
                f"the embedded OsiriX exited with code {host.process.returncode} before serving:\n{_tail(text)}"
            )
        if time.monotonic() > deadline:
            raise HostStartError(f"the embedded OsiriX did not start within {timeout:.0f} s:\n{_tail(text)}")
        time.sleep(0.05)


def _find_info(pid: int, env: dict[str, str] | None) -> HostInfo | None:
    """The host file of ``pid`` (looked up with the host's own environment, where its home is)."""
    return next((h for h in live_hosts(env) if h.pid == pid), None)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"

"""Warm launchers: decorated tasks start in a process that has already imported what they need.

A host keeps, per interpreter (and the few environment variables Python reads when it starts),
one ``python -u -m osirix_tasks.run.launch --warm`` process that has imported the launcher, the
plugins, the context hooks, the gRPC client and numpy, and waits. A run of a decorated task is
handed to it (arguments, environment and working folder as one JSON line on its stdin), and a
fresh one is started in the background for the next run. The task process is otherwise the one
the plain launcher would be: its own process group, the run's environment, stdout and stderr piped
to the supervisor. Script tasks are never warmed: they start exactly as the OsiriXgrpc plugin
starts them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from .store import RunRecord

__all__ = ["WarmPool", "LAUNCH_MODULE", "is_launch_command"]

log = logging.getLogger(__name__)

LAUNCH_MODULE = "osirix_tasks.run.launch"
#: Variables a starting Python reads (site-packages, encoding, flags): a warm process must have
#: been started with the run's values of these. Everything else is set at the handoff.
_STARTUP_PREFIXES = ("PYTHON", "LC_", "LANG", "HOME", "VIRTUAL_ENV", "CONDA")


def is_launch_command(command: list[str]) -> bool:
    """Whether ``command`` is ``<interpreter> -u -m osirix_tasks.run.launch ...`` (a decorated task)."""
    return command[1:4] == ["-u", "-m", LAUNCH_MODULE]


@dataclass(frozen=True)
class _Key:
    interpreter: str
    startup_env: tuple[tuple[str, str], ...]


def _key(interpreter: str, env: Mapping[str, str]) -> _Key:
    startup = tuple(sorted((k, v) for k, v in env.items() if k.startswith(_STARTUP_PREFIXES) or k == "PATH"))
    return _Key(interpreter, startup)


class WarmPool:
    """One preloaded launcher per interpreter, handed the next decorated run."""

    def __init__(self) -> None:
        self._ready: dict[_Key, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _start(self, key: _Key) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [key.interpreter, "-u", "-m", LAUNCH_MODULE, "--warm"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(key.startup_env),
            cwd="/",
            start_new_session=True,
        )

    def prime(self, interpreter: str, env: Mapping[str, str]) -> None:
        """Start a warm launcher for runs of ``interpreter`` with ``env`` in the background."""
        threading.Thread(target=self._prime, args=(_key(interpreter, env),), daemon=True).start()

    def _prime(self, key: _Key) -> None:
        with self._lock:
            if self._closed or (key in self._ready and self._ready[key].poll() is None):
                return
        try:
            process = self._start(key)
        except OSError as exc:
            log.warning("could not start a warm launcher for %s: %s", key.interpreter, exc)
            return
        with self._lock:
            if self._closed or key in self._ready:
                process.kill()
                process.wait()
                return
            self._ready[key] = process

    def spawn(self, record: RunRecord) -> subprocess.Popen[bytes]:
        """The run's process: a warm launcher handed this run (a decorated task), else a plain start.

        Meant as ``supervise(..., spawn=pool.spawn)``.
        """
        from .supervise import start_process

        if not is_launch_command(record.command):
            return start_process(record)
        key = _key(record.command[0], record.env)
        with self._lock:
            process = self._ready.pop(key, None)
        if process is None or process.poll() is not None:
            process = self._start(key)  # nothing ready: the same path, without the head start
        assert process.stdin is not None
        handoff = {"argv": record.command[4:], "env": record.env, "cwd": record.cwd}
        try:
            process.stdin.write(json.dumps(handoff).encode("utf-8") + b"\n")
            process.stdin.close()
        except OSError:  # it died while waiting: start the run the plain way
            process.kill()
            process.wait()
            return start_process(record)
        self.prime(record.command[0], record.env)
        return process

    def close(self) -> None:
        """Stop every waiting launcher."""
        with self._lock:
            self._closed = True
            waiting = list(self._ready.values())
            self._ready.clear()
        for process in waiting:
            with contextlib.suppress(OSError):
                assert process.stdin is not None
                process.stdin.close()  # EOF: it exits quietly
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

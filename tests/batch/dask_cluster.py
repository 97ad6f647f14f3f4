"""A real Dask cluster for tests: a ``dask scheduler`` and named ``dask worker`` processes on 127.0.0.1,
each in its own process group, stopped by :meth:`Cluster.stop`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from osirix_tasks.client.server_configs import free_port

__all__ = ["Cluster", "two_workers"]


class Cluster:
    """A dask scheduler and named workers, each in its own process group."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        dask = str(Path(sys.executable).parent / "dask")
        self.dask = dask
        self._start("scheduler", [dask, "scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"])

    def _start(self, name: str, command: list[str]) -> None:
        self.processes[name] = subprocess.Popen(
            command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    def add_worker(self, name: str) -> None:
        command = [self.dask, "worker", self.address, "--name", name, "--nthreads", "1", "--host", "127.0.0.1"]
        self._start(name, [*command, "--no-dashboard", "--death-timeout", "60"])

    def wait_for_workers(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(count, timeout=60)

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            process = self.processes.pop(name)
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def two_workers(env: dict[str, str]) -> Iterator[Cluster]:
    """A scheduler and two workers ``w1``, ``w2`` running with ``env`` (a host's), stopped after."""
    cluster = Cluster(env)
    try:
        cluster.add_worker("w1")
        cluster.add_worker("w2")
        cluster.wait_for_workers(2)
        yield cluster
    finally:
        cluster.stop()

"""A real embedded OsiriX in a separate process, for tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..client.server_configs import free_port
from ..host.spawn import SpawnedHost, spawn_host
from .environment import isolated_env, run_cli

__all__ = ["RunningHost", "running_host"]


@dataclass
class RunningHost:
    """A running ``osirix-tasks serve`` with its own home folder."""

    spawned: SpawnedHost
    ports: list[int]
    home: Path
    database: Path

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The host process."""
        return self.spawned.process

    @property
    def output(self) -> list[str]:
        """Every line the host has printed so far."""
        return self.spawned.output().splitlines(keepends=True)

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT`` of its first server."""
        return f"127.0.0.1:{self.ports[0]}"

    def stub(self, port: int | None = None) -> Any:
        """A plain ``osirixgrpc`` stub on one of its ports (the first by default)."""
        import grpc
        from osirixgrpc import osirix_pb2_grpc

        from ..wire.options import CHANNEL_OPTIONS

        channel = grpc.insecure_channel(f"127.0.0.1:{port or self.ports[0]}", options=CHANNEL_OPTIONS)
        return osirix_pb2_grpc.OsiriXServiceStub(channel)

    def env(self, **extra: str) -> dict[str, str]:
        """An environment in which osirix-tasks and pyosirix find this host (its home)."""
        return isolated_env(self.home, **extra)

    def cli(self, *args: str, timeout: float = 120, **popen: Any) -> subprocess.CompletedProcess[str]:
        """Run ``osirix-tasks ARGS`` in this host's environment."""
        return run_cli(*args, env=self.env(), timeout=timeout, **popen)


@contextmanager
def running_host(
    home: Path, *args: str, ports: list[int] | None = None, database: Path | None = None
) -> Iterator[RunningHost]:
    """``osirix-tasks serve ARGS`` on fresh ports with ``home`` as its home; stopped afterwards."""
    ports = ports or [free_port()]
    database = database or home / "db"
    serve_args = ["--database", str(database), *args]
    for port in ports:
        serve_args += ["--port", str(port)]
    home.mkdir(parents=True, exist_ok=True)
    spawned = spawn_host(serve_args, env=isolated_env(home), log_path=home / "serve.log", detach=False)
    try:
        yield RunningHost(spawned, spawned.ports or ports, home, database)
    finally:
        spawned.stop()

"""Start the real embedded OsiriX (``osirix-tasks serve``) in a subprocess for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import osirixgrpc  # noqa: F401
from osirixgrpc import osirix_pb2_grpc, utilities_pb2

from osirix_tasks.server_configs import free_port

MAX = 512 * 1024 * 1024


@dataclass
class RunningHost:
    process: subprocess.Popen[str]
    ports: list[int]
    home: Path
    database: Path
    output: list[str]

    def stub(self, port: int | None = None) -> osirix_pb2_grpc.OsiriXServiceStub:
        channel = grpc.insecure_channel(
            f"127.0.0.1:{port or self.ports[0]}",
            options=[("grpc.max_receive_message_length", MAX), ("grpc.max_send_message_length", MAX)])
        return osirix_pb2_grpc.OsiriXServiceStub(channel)

    def env(self) -> dict[str, str]:
        return host_env(self.home)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "osirix_tasks", *args], capture_output=True, text=True,
                              env=self.env(), timeout=timeout)


def host_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=str(home), OSIRIX_TASKS_HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local" / "share"))
    env.pop("OSIRIX_TASKS_REGISTRY", None)
    return env


@contextmanager
def running_host(home: Path, *args: str, ports: list[int] | None = None,
                 database: Path | None = None) -> Iterator[RunningHost]:
    """``osirix-tasks serve`` with ``args`` on fresh ports; stopped with SIGTERM afterwards."""
    ports = ports or [free_port()]
    database = database or home / "db"
    command = [sys.executable, "-m", "osirix_tasks", "serve", "--database", str(database), *args]
    for port in ports:
        command += ["--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=host_env(home))
    output: list[str] = []
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while len([line for line in output if line.startswith("Listening on")]) < len(ports):
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"serve exited with {process.wait()}:\n{''.join(output)}")
        output.append(line)
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("serve did not start:\n" + "".join(output))
    host = RunningHost(process, ports, home, database, output)

    def drain() -> None:  # an unread pipe would fill and block the host
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)

    threading.Thread(target=drain, daemon=True).start()
    try:
        yield host
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()



def empty() -> utilities_pb2.Empty:
    return utilities_pb2.Empty()

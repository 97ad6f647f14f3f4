"""A host restarted on the port of one that was killed (kill -9, out of memory): TIME_WAIT is no obstacle."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.host.control import live_hosts


def _time_wait_on(port: int) -> bool:
    listing = subprocess.run(["ss", "-tan", "state", "time-wait"], capture_output=True, text=True).stdout
    return f":{port} " in listing


def test_a_host_restarts_at_once_on_the_port_of_a_killed_one(start_host: Callable[..., Any], tmp_path: Path) -> None:
    port = free_port()
    with start_host("--empty", "--no-web", ports=[port], home=tmp_path / "first") as host:
        [info] = live_hosts(host.env())
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        client.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")  # a gRPC (HTTP/2) client, as pyosirix opens one
        time.sleep(0.3)
        host.process.send_signal(signal.SIGKILL)
        host.process.wait()
        while client.recv(65536):  # read what the server sent, then its end: our close is a clean FIN
            pass
        client.close()
    assert Path(info.socket_path).exists()  # the killed host could not clean up ...
    assert live_hosts(host.env()) == []
    assert not Path(info.socket_path).exists()  # ... the next look at the host files does
    deadline = time.monotonic() + 5
    while not _time_wait_on(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _time_wait_on(port), "the killed host's connection should linger in TIME_WAIT"
    with start_host("--empty", "--no-web", ports=[port], home=tmp_path / "second") as again:
        assert again.ports == [port]
        assert again.cli("servers", "list", "--json").returncode == 0


def test_a_port_really_listened_on_is_still_refused(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(Exception, match=f"port {port}"), start_host("--empty", "--no-web", ports=[port]):
            pass

"""The host's control channel against a real host: where it listens, who may connect, the key, idle and
hostile peers, malformed requests."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from osirix_tasks.errors import ControlError
from osirix_tasks.host.control import HostInfo, live_hosts, send
from osirix_tasks.host.control_listener import MAX_CONNECTIONS
from osirix_tasks.host.control_protocol import HANDSHAKE_SECONDS, Status, prove_client, recv_frame, send_frame


def the_host_file(home: Path) -> tuple[Path, HostInfo]:
    folder = home / "Library" / "Application Support" / "OsirixGRPC" / "osirix-tasks-hosts"
    [path] = list(folder.glob("*.json"))
    [info] = [h for h in live_hosts({"OSIRIX_TASKS_HOME": str(home)}) if h.path == path]
    return path, info


def connect_raw(home: Path, timeout: float | None = None) -> socket.socket:
    """A connection to the control channel the host file names (whatever kind it is), saying nothing."""
    folder = home / "Library" / "Application Support" / "OsirixGRPC" / "osirix-tasks-hosts"
    [path] = list(folder.glob("*.json"))
    data = json.loads(path.read_text())
    if "socket" in data:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(data["socket"])
        return sock
    return socket.create_connection(tuple(data["address"]), timeout=timeout)  # before: TCP on 127.0.0.1


def test_the_key_file_is_private_and_a_wrong_key_is_refused(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with start_host("--empty", home=tmp_path) as host:
        path, info = the_host_file(tmp_path)
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        wrong = dataclasses.replace(info, authkey="00" * 32)
        with pytest.raises(ControlError, match="authentication"):
            send(wrong, Status(), timeout=10)
        assert host.cli("select", "--clear").returncode == 0  # the real key still works


def test_an_idle_connection_does_not_block_other_clients(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with start_host("--empty", home=tmp_path) as host:
        _, info = the_host_file(tmp_path)
        idle = [connect_raw(tmp_path) for _ in range(5)]  # never say a word
        try:
            started = time.monotonic()
            done = host.cli("select", "--clear", timeout=60)
            took = time.monotonic() - started
            assert done.returncode == 0, done.stderr
            assert took < HANDSHAKE_SECONDS  # answered while the idle peers were still connected
            assert send(info, Status(), timeout=10).ok
        finally:
            for sock in idle:
                sock.close()


def test_a_silent_peer_is_dropped_after_the_handshake_timeout(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with start_host("--empty", home=tmp_path) as host:
        _, info = the_host_file(tmp_path)
        with connect_raw(tmp_path) as idle:
            idle.settimeout(HANDSHAKE_SECONDS + 10)
            assert len(idle.recv(64)) == 32  # the challenge
            started = time.monotonic()
            assert idle.recv(64) == b""  # then the host hangs up on us
            assert time.monotonic() - started < HANDSHAKE_SECONDS + 5
        assert any("before authentication" in line for line in host.output)


@pytest.mark.parametrize(
    "payload",
    [
        {"op": "select", "studies": None},
        {"op": "open"},
        {"op": "open", "series": "x", "frames": -3},
        {"op": "start", "port": "not a port"},
        {"op": "no such thing"},
        ["not", "an", "object"],
        "text",
    ],
)
def test_a_malformed_request_gets_an_error_reply(start_host: Callable[..., Any], tmp_path: Path, payload: Any) -> None:
    with start_host("--empty", home=tmp_path):
        _, info = the_host_file(tmp_path)
        with connect_raw(tmp_path, timeout=30) as sock:
            prove_client(sock, bytes.fromhex(info.authkey))
            send_frame(sock, payload)
            reply = recv_frame(sock)
        assert reply["ok"] is False and reply["message"].startswith("malformed control request")
        assert send(info, Status(), timeout=10).ok  # and the host is fine


def test_an_oversized_frame_is_refused_without_reading_it(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with start_host("--empty", home=tmp_path) as host:
        _, info = the_host_file(tmp_path)
        with connect_raw(tmp_path, timeout=30) as sock:
            prove_client(sock, bytes.fromhex(info.authkey))
            sock.sendall(struct.pack(">I", 2**31) + b"{")
            try:
                closed = sock.recv(16) == b""
            except ConnectionResetError:  # closed with our unread byte in its buffer
                closed = True
            assert closed
        assert any("larger than" in line for line in host.output)
        assert json.loads(host.cli("servers", "list", "--json").stdout)["servers"]


def test_the_channel_is_a_private_unix_socket_no_other_user_can_reach(
    start_host: Callable[..., Any], tmp_path: Path
) -> None:
    with start_host("--empty", "--no-web", home=tmp_path):
        path, info = the_host_file(tmp_path)
        assert "address" not in json.loads(path.read_text())  # nothing listens on a TCP port for it
        where = Path(info.socket_path)
        assert stat.S_ISSOCK(where.stat().st_mode) and oct(where.stat().st_mode & 0o777) == "0o600"
        assert where.parent.stat().st_uid == os.geteuid() and oct(where.parent.stat().st_mode & 0o777) == "0o700"
        if os.geteuid() != 0:
            pytest.skip("trying as another user needs root")
        probe = "import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])"
        other = subprocess.run(
            [shutil.which("python3", path="/usr/bin:/bin") or sys.executable, "-c", probe, info.socket_path],
            user=65534,
            group=65534,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert other.returncode != 0 and "PermissionError" in other.stderr, other.stderr


def test_a_flood_of_idle_connections_only_delays_the_cli(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with start_host("--empty", "--no-web", home=tmp_path) as host:
        idle = []
        try:
            for _ in range(MAX_CONNECTIONS + 16):  # more than the host serves at once, none saying a word
                idle.append(connect_raw(tmp_path))
            done = host.cli("select", "--clear", timeout=120)
            assert done.returncode == 0, done.stderr  # answered once idle peers were dropped, not refused
            assert "no embedded OsiriX" not in done.stderr
        finally:
            for sock in idle:
                sock.close()
        said = [line for line in host.output if "control connections are open" in line]
        assert len(said) <= 3  # said once each time it is full, not once per connection


def test_an_unreachable_host_is_named_with_the_real_cause(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with start_host("--empty", "--no-web", home=tmp_path) as host:
        _, info = the_host_file(tmp_path)
        Path(info.socket_path).unlink()  # as if a cleaner had removed it
        done = host.cli("select", "--clear", timeout=60)
        assert done.returncode == 1
        assert f"the host (pid {info.pid}) has no control socket" in done.stderr
        assert "no embedded OsiriX" not in done.stderr

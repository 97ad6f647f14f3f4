"""The host's control channel against a real host: the key, idle and hostile peers, malformed requests."""

from __future__ import annotations

import dataclasses
import json
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from osirix_tasks.errors import ControlError
from osirix_tasks.host.control import HostInfo, live_hosts, send
from osirix_tasks.host.control_protocol import HANDSHAKE_SECONDS, Status, prove_client, recv_frame, send_frame


def the_host_file(home: Path) -> tuple[Path, HostInfo]:
    folder = home / "Library" / "Application Support" / "OsirixGRPC" / "osirix-tasks-hosts"
    [path] = list(folder.glob("*.json"))
    [info] = [h for h in live_hosts({"OSIRIX_TASKS_HOME": str(home)}) if h.path == path]
    return path, info


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
        idle = [socket.create_connection(info.address) for _ in range(5)]  # never say a word
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
        with socket.create_connection(info.address) as idle:
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
        with socket.create_connection(info.address, timeout=30) as sock:
            prove_client(sock, bytes.fromhex(info.authkey))
            send_frame(sock, payload)
            reply = recv_frame(sock)
        assert reply["ok"] is False and reply["message"].startswith("malformed control request")
        assert send(info, Status(), timeout=10).ok  # and the host is fine


def test_an_oversized_frame_is_refused_without_reading_it(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with start_host("--empty", home=tmp_path) as host:
        _, info = the_host_file(tmp_path)
        with socket.create_connection(info.address, timeout=30) as sock:
            prove_client(sock, bytes.fromhex(info.authkey))
            sock.sendall(struct.pack(">I", 2**31) + b"{")
            try:
                closed = sock.recv(16) == b""
            except ConnectionResetError:  # closed with our unread byte in its buffer
                closed = True
            assert closed
        assert any("larger than" in line for line in host.output)
        assert json.loads(host.cli("servers", "list", "--json").stdout)["servers"]

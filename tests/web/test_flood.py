"""A flood of half-sent requests to the page's port cannot take the host down.

A real host is started with a soft open-files limit of 1024 (it raises it to the hard limit), then
held to 1024 for good with ``prlimit``; 1,100 connections to its web port each send part of a
request head and wait. gRPC, the page and a run must keep answering, the log must stay small, and
the half-sent requests must be closed by the host after its header timeout.
"""

from __future__ import annotations

import contextlib
import json
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from osirixgrpc import utilities_pb2

from osirix_tasks.testing import running_host
from osirix_tasks.web.connections import HEADER_SECONDS

from .conftest import Page, page_of

FLOOD = 1100
LIMIT = 1024

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="needs Linux's prlimit"),
]


def _nofile(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open files line")


@contextlib.contextmanager
def _soft_limit(value: int) -> Iterator[None]:
    """This process's soft limit lowered to ``value`` (inherited by what it starts), then put back."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(value, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture(scope="module")
def flooded_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < FLOOD + 200:
        pytest.skip(f"the hard open-files limit ({hard}) is too low for this test's own {FLOOD} sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this process holds the flood's sockets
    home = tmp_path_factory.mktemp("floodhome")
    registry = home / "tasks.toml"
    registry.write_text("")
    with _soft_limit(LIMIT):
        started = running_host(home, "--demo", "--registry", str(registry))
        host = started.__enter__()
    try:
        yield page_of(host, registry)
    finally:
        started.__exit__(None, None, None)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_host_raises_its_soft_open_files_limit_at_start(flooded_web: Page) -> None:
    soft, hard = _nofile(flooded_web.host.process.pid)
    assert soft == hard and soft > LIMIT


def _half_sent(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that each sent part of a request head (no token, no end of head)."""
    held = []
    for index in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", port))
            sock.sendall(f"GET /api/info?{index} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode())
        except OSError:
            sock.close()  # the host's backlog is full: that connection never got in
            continue
        held.append(sock)
    return held


def test_running_out_of_descriptors_is_logged_once_and_the_page_recovers(flooded_web: Page) -> None:
    # before the flood test: asyncio's accept error is said once a minute, and that flood may say it too
    host = flooded_web.host
    pid = host.process.pid
    log_before = host.spawned.log_path.stat().st_size
    in_use = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (in_use + 8, LIMIT))  # below what the cap would allow
    held = _half_sent(flooded_web.port, 300)
    try:
        time.sleep(3)  # asyncio retries its accept every second meanwhile, failing each time
    finally:
        for sock in held:
            sock.close()
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (LIMIT, LIMIT))
    time.sleep(1)
    status, _ = flooded_web.api("GET", "/api/info")
    assert status == 200
    log = host.spawned.log_path.read_text(errors="replace")[log_before:]
    assert 1 <= log.count("socket.accept() out of system resource") <= 2, log[:3000]
    assert len(log) < 20_000, log[:3000]


def test_half_sent_requests_neither_exhaust_descriptors_nor_flood_the_log(flooded_web: Page) -> None:
    host = flooded_web.host
    resource.prlimit(host.process.pid, resource.RLIMIT_NOFILE, (LIMIT, LIMIT))
    log_before = host.spawned.log_path.stat().st_size
    held = _half_sent(flooded_web.port, FLOOD)
    try:
        time.sleep(1)
        descriptors = len(list(Path(f"/proc/{host.process.pid}/fd").iterdir()))
        assert descriptors < LIMIT // 2, f"the host holds {descriptors} descriptors"
        # gRPC answers
        assert host.stub().OsirixVersion(utilities_pb2.Empty(), timeout=10).status.status == 1
        # the page answers (with its token) while the flood holds its connections
        status, data = flooded_web.api("GET", "/api/info")
        assert status == 200 and json.loads(data)["ports"] == host.ports
        # a run starts, runs and is recorded
        result = host.cli("run", "Selection report", "--server", str(host.ports[0]), timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        # the half-sent requests are closed by the host once their head is late
        time.sleep(HEADER_SECONDS + 2)
        still_open = 0
        for sock in held:
            sock.settimeout(0.5)
            try:
                still_open += sock.recv(1) != b""
            except ConnectionResetError:
                pass
            except TimeoutError:
                still_open += 1
        assert still_open == 0, f"{still_open} half-sent requests are still open after {HEADER_SECONDS + 2} s"
    finally:
        for sock in held:
            sock.close()
    grown = host.spawned.log_path.stat().st_size - log_before
    log = host.spawned.log_path.read_text(errors="replace")[log_before:]
    assert grown < 20_000 and log.count("Traceback") <= 1, log[:3000]

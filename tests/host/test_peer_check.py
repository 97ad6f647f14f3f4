"""Issue 18 item 5: other local users' processes are refused on the gRPC ports (Linux).

A real host; the other user's client is a real process of user ``nobody`` (``runuser``, as root),
with Debian's Python and gRPC (``python3-grpcio``: our own venv lives where ``nobody`` cannot read).
Before, another user listed the patients and made the host import a file from a 0700 folder; and
``CopyFilesIfNeeded`` answered differently for a missing path and an unreadable one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from osirixgrpc import browsercontroller_pb2, osirix_pb2_grpc
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.host.peer_check import REFUSED
from osirix_tasks.testing import RunningHost, isolated_env, running_host
from tests.helpers import ok

SYSTEM_PYTHON = "/usr/bin/python3"
#: A client with nothing but gRPC: calls one method with raw request bytes, prints the outcome.
CLIENT = """
import sys, grpc
channel = grpc.insecure_channel(sys.argv[1])
call = channel.unary_unary("/osirixgrpc.OsiriXService/" + sys.argv[2])
try:
    answer = call(bytes.fromhex(sys.argv[3]), timeout=20)
    print("OK", answer.hex())
except grpc.RpcError as error:
    print(error.code().name, error.details())
"""


def _other_user_client_available() -> str | None:
    """Why a client cannot run as another user here (None: it can)."""
    if not sys.platform.startswith("linux"):
        return "the peer check exists on Linux only"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "running a client as another user needs root and runuser"
    probe = subprocess.run(
        ["runuser", "-u", "nobody", "--", SYSTEM_PYTHON, "-c", "import grpc"], capture_output=True, timeout=60
    )
    if probe.returncode != 0:
        return "user nobody needs Debian's python3-grpcio (apt-get install python3-grpcio)"
    return None


pytestmark = pytest.mark.skipif(_other_user_client_available() is not None, reason=str(_other_user_client_available()))


def as_nobody(address: str, rpc: str, request: bytes = b"") -> str:
    done = subprocess.run(
        ["runuser", "-u", "nobody", "--", SYSTEM_PYTHON, "-c", CLIENT, address, rpc, request.hex()],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    with running_host(tmp_path_factory.mktemp("home"), "--demo") as running:
        yield running


def test_another_users_process_is_refused_and_ours_is_served(host: RunningHost) -> None:
    private = host.home / "private"
    private.mkdir(mode=0o700, exist_ok=True)
    secret = private / "secret.dcm"
    shutil.copy(next((host.database / "DATABASE.noindex").rglob("*.dcm")), secret)
    browser = ok(host.stub().OsirixCurrentBrowser(Empty())).browser_controller
    copy_request = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(browser=browser, paths=[str(secret)])

    for rpc, request in [
        ("OsirixVersion", b""),
        ("BrowserControllerDatabaseStudies", browser.SerializeToString()),
        ("BrowserControllerCopyFilesIfNeeded", copy_request.SerializeToString()),
        ("OsirixVersion", b""),
    ]:
        assert as_nobody(host.address, rpc, request) == f"PERMISSION_DENIED {REFUSED}", rpc

    assert ok(host.stub().OsirixVersion(Empty())).version  # our own process is served
    log = (host.home / "serve.log").read_text()
    assert log.count("refused gRPC calls from user 65534") == 1, log[-2000:]  # once per user
    assert len(ok(host.stub().BrowserControllerDatabaseStudies(browser)).studies) == 1  # nothing was imported


def test_other_users_are_served_when_the_owner_allows_them(tmp_path: Path) -> None:
    with running_host(tmp_path, "--demo", "--allow-other-users") as host:
        assert as_nobody(host.address, "OsirixVersion").startswith("OK ")


def no_dac_host(home: Path, port: int) -> subprocess.Popen[bytes]:
    """A host as root without the capabilities that bypass file permissions: files it cannot read exist."""
    home.mkdir()
    command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", sys.executable]
    command += [
        "-m",
        "osirix_tasks",
        "serve",
        "--demo",
        "--no-web",
        "--port",
        str(port),
        "--database",
        str(home / "db"),
    ]
    log = home / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=isolated_env(home))
    deadline = time.monotonic() + 120
    while "Listening on" not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, log.read_text()
    return process


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to drop the host's file capabilities")
def test_copy_files_says_the_same_for_a_missing_and_an_unreadable_path(tmp_path: Path) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir()
    folder.chmod(0o711)  # others may pass through, not list: the file's existence shows, its bytes do not
    unreadable = folder / "secret.dcm"
    unreadable.write_bytes(b"DICM")
    os.chown(folder, 65534, 65534)
    os.chown(unreadable, 65534, 65534)
    unreadable.chmod(0o600)
    missing = folder / "missing.dcm"
    port = free_port()
    process = no_dac_host(tmp_path / "home", port)
    try:
        stub = osirix_pb2_grpc.OsiriXServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
        answers = {}
        for path in (unreadable, missing):
            request = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(
                browser=browser, paths=[str(path)]
            )
            answer = stub.BrowserControllerCopyFilesIfNeeded(request)
            answers[path] = (answer.status.status, answer.status.message.replace(str(path), "PATH"))
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert answers[unreadable] == answers[missing]
    assert answers[missing] == (0, "Cannot read PATH: give the paths of DICOM files this OsiriX can read")

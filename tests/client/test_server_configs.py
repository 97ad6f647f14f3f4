"""Server configuration: server_configs.json in the plugin's format, truthful active flags,
start/stop on a running host through its control channel."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from osirixgrpc import types_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks._support.processes import pid_alive
from osirix_tasks.client.server_configs import free_port
from osirix_tasks.testing import isolated_env, running_host


def configs(home: Path) -> list[dict[str, str]]:
    path = home / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "osirix_tasks", *args],
        capture_output=True,
        text=True,
        env=isolated_env(home),
        timeout=120,
    )


def pyosirix_port(home: Path) -> str | None:
    code = "import json, osirix; print(json.dumps(osirix.osirixgrpc_port_preference()))"
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, env=isolated_env(home), timeout=60
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_add_list_remove_in_the_plugins_format(tmp_path: Path) -> None:
    assert cli(tmp_path, "servers", "add", "50051").returncode == 0
    assert cli(tmp_path, "servers", "add", "50052").returncode == 0
    assert configs(tmp_path) == [
        {"ipaddress": "127.0.0.1", "port": "50051", "active": "NO"},
        {"ipaddress": "127.0.0.1", "port": "50052", "active": "NO"},
    ]
    dup = cli(tmp_path, "servers", "add", "50051")
    assert dup.returncode == 1 and "already configured - ports are unique" in dup.stderr
    remote = cli(tmp_path, "servers", "add", "50053", "--address", "0.0.0.0")
    assert remote.returncode == 1
    assert "address '0.0.0.0' is refused: OsiriXgrpc servers listen on 127.0.0.1 only" in remote.stderr
    assert cli(tmp_path, "servers", "remove", "50051").returncode == 0
    listing = json.loads(cli(tmp_path, "servers", "list", "--json").stdout)
    assert [s["port"] for s in listing["servers"]] == [50052]
    assert pyosirix_port(tmp_path) is None  # nothing active


def test_serve_marks_ports_active_and_pyosirix_picks_ours(tmp_path: Path) -> None:
    first, second = free_port(), free_port()
    with running_host(tmp_path, "--empty", ports=[first, second]) as host:
        entries = configs(tmp_path)
        assert [(e["port"], e["active"]) for e in entries] == [(str(first), "YES"), (str(second), "YES")]
        assert pyosirix_port(tmp_path) == str(second)  # pyosirix takes the last active entry
        listing = json.loads(cli(tmp_path, "servers", "list", "--json").stdout)["servers"]
        assert all(s["active"] and s["host_pid"] == host.process.pid for s in listing)
    assert [e["active"] for e in configs(tmp_path)] == ["NO", "NO"]  # SIGTERM: clean stop


def test_serve_defaults_to_the_configured_servers(tmp_path: Path) -> None:
    port = free_port()
    cli(tmp_path, "servers", "add", str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "osirix_tasks", "serve", "--empty", "--database", str(tmp_path / "db")],
        stdout=subprocess.PIPE,
        text=True,
        env=isolated_env(tmp_path),
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        assert f"Listening on 127.0.0.1:{port}\n" in lines
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_killed_host_is_shown_inactive(tmp_path: Path) -> None:
    port = free_port()
    with running_host(tmp_path, "--empty", ports=[port]) as host:
        host.process.send_signal(signal.SIGKILL)
        host.process.wait(timeout=10)
        assert configs(tmp_path)[0]["active"] == "YES"  # the dead host could not say so
        listing = json.loads(cli(tmp_path, "servers", "list", "--json").stdout)["servers"]
        assert listing == [
            {"ipaddress": "127.0.0.1", "port": port, "active": False, "host_pid": None, "registry": None}
        ]
        assert configs(tmp_path)[0]["active"] == "NO"  # corrected on disk when we read it


def test_port_in_use_names_who_holds_it(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "osirix_tasks",
                "serve",
                "--empty",
                "--database",
                str(tmp_path / "db"),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            env=isolated_env(tmp_path),
            timeout=60,
        )
        assert done.returncode == 1
        assert f"port {port} on 127.0.0.1 is held by pid {os.getpid()}" in done.stderr
        started = cli(tmp_path, "servers", "start", str(port))
        assert started.returncode == 1 and f"held by pid {os.getpid()}" in started.stderr


def test_start_and_stop_act_on_the_running_host(tmp_path: Path) -> None:
    first, extra = free_port(), free_port()
    with running_host(tmp_path, "--demo", ports=[first]) as host:
        started = cli(tmp_path, "servers", "start", str(extra))
        assert started.returncode == 0, started.stderr
        browser = host.stub(first).OsirixCurrentBrowser(Empty()).browser_controller
        studies = host.stub(extra).BrowserControllerDatabaseStudies(browser)  # same state, other port
        assert studies.status.status == 1 and len(studies.studies) == 1
        assert {(e["port"], e["active"]) for e in configs(tmp_path)} == {(str(first), "YES"), (str(extra), "YES")}
        stopped = cli(tmp_path, "servers", "stop", str(extra))
        assert stopped.returncode == 0, stopped.stderr
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", extra), timeout=1).close()
        assert {(e["port"], e["active"]) for e in configs(tmp_path)} == {(str(first), "YES"), (str(extra), "NO")}
        assert host.stub(first).OsirixVersion(Empty()).status.status == 1
        not_served = cli(tmp_path, "servers", "stop", str(extra))
        assert not_served.returncode == 1 and "is not being served" in not_served.stderr


def test_start_without_a_host_starts_one_and_stop_ends_it(tmp_path: Path) -> None:
    port = free_port()
    started = cli(tmp_path, "servers", "start", str(port), "--database", str(tmp_path / "db"))
    assert started.returncode == 0, started.stderr
    pid = int(started.stdout.split("pid ")[1].split(")")[0])
    try:
        assert configs(tmp_path) == [{"ipaddress": "127.0.0.1", "port": str(port), "active": "YES"}]
        assert cli(tmp_path, "servers", "stop", str(port)).returncode == 0
        # Gone when the command returns (zombies count as gone), so the next command cannot find it:
        # 'servers stop' then 'ui' starts a new host instead of printing the address of the dying one.
        assert not pid_alive(pid), "the host was still running when 'servers stop' of its last port returned"
        assert configs(tmp_path)[0]["active"] == "NO"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_corrupt_server_configs_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "Library" / "Application Support" / "OsirixGRPC"
    folder.mkdir(parents=True)
    (folder / "server_configs.json").write_text('[\n  {"ipaddress": "127.0.0.1", "port": "1"\n')
    done = cli(tmp_path, "servers", "list")
    assert done.returncode == 1
    assert "server_configs.json:3:1: JSON syntax error" in done.stderr
    assert "restore" not in done.stderr  # no backup: no hint to restore one
    (folder / "server_configs.json.bak").write_text("[]")
    hinted = cli(tmp_path, "servers", "list")
    assert hinted.returncode == 1 and "'osirix-tasks servers restore'" in hinted.stderr


def test_stale_uid_types_do_not_mix(tmp_path: Path) -> None:
    with running_host(tmp_path, "--demo") as host:
        stub = host.stub()
        browser = stub.OsirixCurrentBrowser(Empty()).browser_controller
        as_study = stub.DicomStudyName(types_pb2.DicomStudy(osirixrpc_uid=browser.osirixrpc_uid))
        assert (as_study.status.status, as_study.status.message) == (0, "No DicomStudy cached")


def test_sigterm_while_serve_loads_stops_it_cleanly(tmp_path: Path) -> None:
    """A SIGTERM that arrives while the host is still loading is not lost and does not kill it
    half-way: it stops once loaded, exits 0, and leaves no active entry behind."""
    from osirix_tasks.emulator.database.demo import generate_demo_series

    generate_demo_series(tmp_path / "series")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "osirix_tasks", "serve", "--port", str(port), "--no-web", "--empty"]
        + ["--database", str(tmp_path / "db"), "--import", str(tmp_path / "series")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=isolated_env(tmp_path),
    )
    try:
        assert process.stderr is not None
        process.stderr.readline()  # the first word of the load (the host's handlers are in place)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert all(entry["active"] == "NO" for entry in configs(tmp_path))

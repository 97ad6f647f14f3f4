"""``osirix-tasks demo`` on a fresh HOME: the embedded OsiriX with its demo data and a builtin task."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from osirix_tasks.testing import isolated_env

USERS_SERVERS = [
    {"ipaddress": "127.0.0.1", "port": "50051", "active": "NO"},
    {"ipaddress": "127.0.0.1", "port": "50099", "active": "NO"},
]


def server_configs(home: Path) -> Path:
    return home / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json"


def test_demo_runs_on_a_fresh_machine(tmp_path: Path) -> None:
    configs = server_configs(tmp_path)
    configs.parent.mkdir(parents=True)
    configs.write_text(json.dumps(USERS_SERVERS, indent=4))
    done = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "demo"],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=180,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Started an embedded OsiriX with the demo data" in done.stdout
    assert "Study: 'Demo Brain Phantom' - patient 'Demo Phantom' - 1 series, 24 images" in done.stdout
    assert "Smoothed a 128x128 slice with sigma 1.5 px" in done.stdout
    # OsiriX's selectedROIs are the displayed slice's (ViewerController.m): one of the three ROIs drawn.
    assert done.stdout.count("ROI 'demo lesion': area") == 1
    assert "Rendering mode: VR -> MIP" in done.stdout
    summary = done.stdout.split("Summary")[1]
    assert summary.count("succeeded") == 4
    runs = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "runs", "--json"],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=60,
    )
    assert sorted(r["task_type"] for r in json.loads(runs.stdout)) == ["Database", "Image", "ROI", "VRController"]
    assert json.loads(configs.read_text()) == USERS_SERVERS  # its random port left with it; the user's stay


def test_a_demo_stopped_by_sigterm_stops_its_host_and_takes_its_port_away(tmp_path: Path) -> None:
    configs = server_configs(tmp_path)
    configs.parent.mkdir(parents=True)
    configs.write_text(json.dumps(USERS_SERVERS, indent=4))
    demo = subprocess.Popen(
        [sys.executable, "-m", "osirix_tasks", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=isolated_env(tmp_path),
        cwd=tmp_path,
    )
    assert demo.stdout is not None
    started = ""
    for line in demo.stdout:
        if "Started an embedded OsiriX" in line:
            started = line
            break
    pid = int(re.search(r"pid (\d+)", started).group(1))  # type: ignore[union-attr]
    port = int(started.rsplit(":", 1)[1])
    assert port in [int(e["port"]) for e in json.loads(configs.read_text())]  # served while the demo runs
    demo.send_signal(signal.SIGTERM)
    demo.communicate(timeout=60)
    assert demo.returncode == 128 + signal.SIGTERM
    deadline = time.monotonic() + 30
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert json.loads(configs.read_text()) == USERS_SERVERS


def test_demo_imports_its_study_into_a_running_host_that_lacks_it(
    start_host: Callable[..., Any], tmp_path: Path
) -> None:
    with start_host("--empty", home=tmp_path) as host:
        done = host.cli("demo", timeout=240, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert "does not have the demo study: importing it" in done.stdout
        assert "Using the embedded OsiriX already running" in done.stdout
        assert done.stdout.split("Summary")[1].count("succeeded") == 4

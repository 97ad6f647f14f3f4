"""Timeout and cancel end the task's whole process group, even a grandchild that ignores SIGTERM."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from osirix_tasks.testing import Project

STUBBORN = """
    import os, signal, subprocess, sys, time
    grandchild = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    open("grandchild.pid", "w").write(str(grandchild.pid))
    print("started", grandchild.pid, flush=True)
    time.sleep(300)
"""


def _grandchild(project: Project) -> int:
    path = project.root / "scripts" / "grandchild.pid"
    deadline = time.monotonic() + 30
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, "the task did not start its grandchild"
        time.sleep(0.05)
    return int(path.read_text())


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_a_timeout_kills_a_grandchild_that_ignores_sigterm(project: Project) -> None:
    project.script("stubborn", STUBBORN)
    done = project.cli("run", "stubborn", "--timeout", "2", timeout=90)
    assert done.returncode == 124, done.stderr
    pid = _grandchild(project)
    try:
        assert _gone(pid), "the grandchild survived the timeout"
        [record] = project.runs()
        assert record["status"] == "timed out" and "process group" in (record["message"] or "")
    finally:
        if psutil.pid_exists(pid):
            psutil.Process(pid).kill()


def test_cancel_kills_a_grandchild_that_ignores_sigterm(project: Project, tmp_path: Path) -> None:
    project.script("stubborn", STUBBORN)
    run_id = project.cli("run", "stubborn", "--background", check=True).stdout.strip()
    pid = _grandchild(project)
    try:
        done = project.cli("cancel", run_id, "--grace", "1", timeout=60)
        assert done.returncode == 0, done.stderr
        assert _gone(pid), "the grandchild survived cancel"
        record = project.wait(run_id)
        assert record["status"] == "cancelled"
    finally:
        if psutil.pid_exists(pid):
            psutil.Process(pid).kill()

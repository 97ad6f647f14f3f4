"""``osirix-tasks demo`` on a fresh HOME: the embedded OsiriX with its demo data and a builtin task."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from osirix_tasks.testing import isolated_env


def test_demo_runs_on_a_fresh_machine(tmp_path: Path) -> None:
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
    configs = tmp_path / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json"
    assert [e["active"] for e in json.loads(configs.read_text())] == ["NO"]  # the host was stopped


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

"""A pack installed while a host runs (editable, as a pack author does) is seen at once: the host offers
and runs its tasks, on a warm launcher started before the install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.host.spawn import spawn_host
from osirix_tasks.testing import isolated_env, overlay_venv

TASK = "Lung tools: list studies"


def test_an_editable_pack_installed_while_the_host_runs_is_offered_and_runs(tmp_path: Path) -> None:
    python = overlay_venv(tmp_path / "venv")  # what is installed there shadows nothing of ours
    home = tmp_path / "home"
    home.mkdir()
    env = isolated_env(home, OSIRIX_TASKS_REGISTRY=str(tmp_path / "tasks.toml"))
    port = free_port()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(python), "-m", "osirix_tasks", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)

    assert cli("new-pack", "lung-tools", "--dir", str(tmp_path)).returncode == 0
    host = spawn_host(
        ["--demo", "--no-web", "--port", str(port), "--database", str(home / "db")],
        env=env,
        log_path=home / "serve.log",
        detach=False,
        interpreter=str(python),
    )
    try:
        before = cli("run", TASK, "--server", str(port))
        assert before.returncode == 1 and f"no task named '{TASK}'" in before.stderr  # not installed yet
        installed = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps"]
            + ["--no-build-isolation", "--no-index", "-e", str(tmp_path / "lung-tools")],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, installed.stderr
        ran = cli("run", TASK, "--server", str(port))  # the host supervises it: its catalog, its launcher
        assert ran.returncode == 0, ran.stderr + host.output()
        assert "Demo Phantom" in ran.stdout and "24 images" in ran.stdout
        assert "ModuleNotFoundError" not in host.output()
    finally:
        host.stop()

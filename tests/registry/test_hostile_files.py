"""Registries that are not ordinary files, and what killed writers leave behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osirix_tasks.registry.source import MAX_REGISTRY_BYTES


def cli(registry: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "--registry", str(registry), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=registry.parent,
    )


def test_a_fifo_registry_is_refused_instead_of_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "tasks.toml"
    os.mkfifo(fifo)
    try:
        listed = cli(fifo, "tasks", "list", timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("'tasks list' hung on a FIFO registry")
    assert "is a FIFO (named pipe), not a file" in listed.stderr
    assert "ROI statistics" in listed.stdout  # the builtin tasks still list
    checked = cli(fifo, "tasks", "validate", timeout=30)
    assert checked.returncode == 1 and "FIFO" in checked.stderr


def test_an_oversized_registry_is_refused_unread(tmp_path: Path) -> None:
    registry = tmp_path / "tasks.toml"
    line = b"# " + b"x" * 1000 + b"\n"
    with registry.open("wb") as handle:
        for _ in range(MAX_REGISTRY_BYTES // len(line) + 2):
            handle.write(line)
    checked = cli(registry, "tasks", "validate")
    assert checked.returncode == 1
    assert f"more than the {MAX_REGISTRY_BYTES // 2**20} MB a registry may be" in checked.stderr
    (tmp_path / "a.py").write_text("print(1)\n")
    added = cli(registry, "tasks", "add", str(tmp_path / "a.py"), "--type", "ROI")
    assert added.returncode == 1 and "MB a registry may be" in added.stderr


def test_temporary_files_of_killed_writers_are_cleaned_on_the_next_write(tmp_path: Path) -> None:
    registry = tmp_path / "tasks.toml"
    registry.write_text("")
    (tmp_path / "a.py").write_text("print(1)\n")
    stale = tmp_path / ".tasks.toml.k1ll3d_9.tmp"  # what mkstemp named the write a kill -9 interrupted
    stale.write_text("[[task]]\nname = 'half")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    fresh = tmp_path / ".tasks.toml.wr1t1ng_.tmp"  # another writer's, right now: not ours to touch
    fresh.write_text("")
    unrelated = tmp_path / ".other.toml.k1ll3d_9.tmp"
    unrelated.write_text("")
    os.utime(unrelated, (hour_ago, hour_ago))
    assert cli(registry, "tasks", "add", str(tmp_path / "a.py"), "--type", "ROI").returncode == 0
    assert not stale.exists()
    assert fresh.exists() and unrelated.exists()

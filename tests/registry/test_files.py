"""Edits of tasks.toml keep the file's text, follow links, keep its mode and refuse what cannot be written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import tomli

REGISTRY_TEXT = """# my tasks - keep this comment
[settings]
disabled_packs = []  # none

# the first task
[[task]]
name = "first"
type = "ROI"
location = "first.py"
"""


def cli(registry: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "--registry", str(registry), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def make_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "first.py").write_text("print(1)\n")
    (folder / "a.py").write_text("print(2)\n")
    registry = folder / "tasks.toml"
    registry.write_text(REGISTRY_TEXT)
    return registry


def test_a_short_new_entry_is_appended_as_a_task_table(tmp_path: Path) -> None:
    registry = make_project(tmp_path)
    done = cli(registry, "tasks", "add", str(tmp_path / "a.py"), "--type", "Image", "--name", "a")
    assert done.returncode == 0, done.stderr
    text = registry.read_text()
    assert text.startswith(REGISTRY_TEXT)  # every byte before is kept: comments, [settings] first
    added = text[len(REGISTRY_TEXT) :]
    assert "[[task]]" in added and "task = [" not in added
    entries = tomli.loads(text)["task"]
    assert entries[-1] == {"name": "a", "type": "Image", "location": "a.py"}  # relative: it sits beside


def test_a_script_elsewhere_is_stored_absolute(tmp_path: Path) -> None:
    registry = make_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere" / "b.py"
    elsewhere.parent.mkdir()
    elsewhere.write_text("print(3)\n")
    assert cli(registry, "tasks", "add", str(elsewhere), "--type", "ROI").returncode == 0
    assert tomli.loads(registry.read_text())["task"][-1]["location"] == str(elsewhere)


def test_a_symlinked_registry_updates_its_target(tmp_path: Path) -> None:
    target = make_project(tmp_path / "real")
    link = tmp_path / "tasks.toml"
    link.symlink_to(target)
    done = cli(link, "tasks", "add", str(tmp_path / "real" / "a.py"), "--type", "Image", "--name", "a")
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.path.realpath(link) == str(target)
    assert 'name = "a"' in target.read_text() and target.read_text().startswith(REGISTRY_TEXT)
    assert (target.parent / "tasks.toml.lock").exists() and not (tmp_path / "tasks.toml.lock").exists()


def test_the_file_keeps_its_mode(tmp_path: Path) -> None:
    registry = make_project(tmp_path)
    registry.chmod(0o640)
    assert cli(registry, "tasks", "add", str(tmp_path / "a.py"), "--type", "Image").returncode == 0
    assert stat.S_IMODE(registry.stat().st_mode) == 0o640


def test_a_read_only_registry_is_refused_and_left_alone(tmp_path: Path) -> None:
    registry = make_project(tmp_path)
    registry.chmod(0o444)
    done = cli(registry, "tasks", "add", str(tmp_path / "a.py"), "--type", "Image")
    assert done.returncode == 1
    assert "read-only" in done.stderr and "Traceback" not in done.stderr
    assert registry.read_text() == REGISTRY_TEXT and stat.S_IMODE(registry.stat().st_mode) == 0o444


def test_a_read_only_folder_gives_a_message(tmp_path: Path) -> None:
    registry = make_project(tmp_path / "locked")
    (tmp_path / "locked").chmod(0o555)
    try:
        done = cli(registry, "tasks", "remove", "first")
        assert done.returncode == 1
        assert "not writable" in done.stderr and "Traceback" not in done.stderr
        assert registry.read_text() == REGISTRY_TEXT
    finally:
        (tmp_path / "locked").chmod(0o755)

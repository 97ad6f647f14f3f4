"""Private by default: what holds patient data, task output or credentials is owner-only, and files
left looser by earlier versions are tightened when opened."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from osirix_tasks.testing import Project, isolated_env
from osirix_tasks.testing.environment import run_cli


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems give users (022: new files readable by everyone, unless made private)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_fresh_user_s_files_are_owner_only(start_host: Callable[..., Any], tmp_path: Path) -> None:
    home = tmp_path / "home"
    with start_host("--demo", home=home) as host:
        data = home / ".local" / "share" / "osirix-tasks"
        (tmp_path / "project").mkdir()
        project = Project(tmp_path / "project", server=host.address)
        project.env = isolated_env(home, OSIRIX_TASKS_REGISTRY=str(project.registry), OSIRIX_TASKS_SERVER=host.address)
        project.script("names", "print('Patient^Anonymous')\n")
        project.cli("run", "names", check=True)  # supervised by the host, stored in the user's store
        saved = tmp_path / "out.txt"
        project.cli("console", "--save", str(saved), check=True)
        store = data / "runs.sqlite"
        assert mode(data) == "0o700"
        for path in [
            store,
            *[store.with_name(store.name + s) for s in ("-wal", "-shm") if Path(f"{store}{s}").exists()],
        ]:
            assert mode(path) == "0o600", path
        database = host.database
        assert mode(database) == "0o700"
        assert mode(database / "index.sqlite") == "0o600"
        for path in database.rglob("*"):
            assert mode(path) in ("0o600", "0o700"), path
        hosts = home / "Library" / "Application Support" / "OsirixGRPC" / "osirix-tasks-hosts"
        assert mode(hosts) == "0o700"
        assert all(mode(path) == "0o600" for path in hosts.iterdir() if path.is_file())
        assert mode(home / "serve.log") == "0o600"  # the host's log
        assert mode(saved) == "0o600" and "Patient^Anonymous" in saved.read_text()


def test_looser_files_of_an_earlier_version_are_tightened_when_opened(tmp_path: Path) -> None:
    data = tmp_path / ".local" / "share" / "osirix-tasks"
    database = data / "database"
    env = isolated_env(tmp_path)
    database.mkdir(parents=True)
    sqlite3.connect(database / "index.sqlite").close()
    sqlite3.connect(data / "runs.sqlite").execute("PRAGMA journal_mode=WAL").fetchall()
    for path in (data, database):
        os.chmod(path, 0o755)
    for path in (database / "index.sqlite", data / "runs.sqlite"):
        os.chmod(path, 0o644)
    assert run_cli("runs", env=env).returncode == 0
    empty = tmp_path / "no-dicom"
    empty.mkdir()
    assert run_cli("import", str(empty), "--database", str(database), env=env).returncode == 1  # opens it
    assert mode(data) == "0o700" and mode(data / "runs.sqlite") == "0o600"
    assert mode(database) == "0o700" and mode(database / "index.sqlite") == "0o600"


def test_validate_warns_when_a_registry_with_env_values_is_readable_by_others(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.script("with-secret", "print(1)\n")
    with project.registry.open("a") as handle:
        handle.write('env = { API_TOKEN = "s3cret" }\n')
    os.chmod(project.registry, 0o644)
    loose = project.cli("tasks", "validate", "--json")
    assert loose.returncode == 0, loose.stderr
    [message] = json.loads(loose.stdout)["warnings"]
    assert "readable by every user (mode 0644)" in message and "chmod 600" in message
    assert "chmod 600" in project.cli("tasks", "validate").stderr
    os.chmod(project.registry, 0o600)
    assert json.loads(project.cli("tasks", "validate", "--json").stdout)["warnings"] == []

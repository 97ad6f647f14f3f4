"""Shared fixtures: an isolated HOME and config, a script file, the CLI runner."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from osirix_tasks.cli import cli

REPO = Path(__file__).resolve().parent.parent
SHARED_PHANTOM = REPO.parent / "shared" / "data" / "mr-phantom"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME, config and data dirs: nothing touches the real user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("OSIRIX_TASKS_HOME", str(home))
    monkeypatch.delenv("OSIRIX_TASKS_REGISTRY", raising=False)
    return home


@pytest.fixture
def script(tmp_path: Path) -> Path:
    """A real Python script file."""
    path = tmp_path / "scripts" / "measure_it.py"
    path.parent.mkdir()
    path.write_text("print('measured')\n")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, registry: Path, *args: str):  # type: ignore[no-untyped-def]
    """Run the real CLI in-process against ``registry``."""
    return runner.invoke(cli, ["--registry", str(registry), *args], catch_exceptions=False)


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


PYTHON = sys.executable

"""The CLI imports only what each command uses, and --help lists commands without importing them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from osirix_tasks.cli import COMMANDS, SUMMARIES, cli
from osirix_tasks.testing import RunningHost

HEAVY = ("pydicom", "numpy", "grpc", "pydantic", "pluggy")


def imported_modules(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> set[str]:
    """The top-level packages a real ``osirix-tasks ARGS`` process imported (from ``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "osirix_tasks", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_every_command_has_its_summary_from_its_own_docstring() -> None:
    assert set(SUMMARIES) == set(COMMANDS)
    context = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None and command.help is not None
        assert command.help.strip().splitlines()[0] == SUMMARIES[name], name


def test_help_imports_no_heavy_library() -> None:
    loaded = imported_modules("--help")
    assert "click" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_tasks_list_imports_no_grpc_numpy_or_pydicom(tmp_path: Path) -> None:
    (tmp_path / "tasks.toml").write_text("")
    loaded = imported_modules("--registry", str(tmp_path / "tasks.toml"), "tasks", "list")
    assert "pydantic" in loaded  # the registry is validated
    assert not loaded & {"grpc", "numpy", "pydicom"}


@pytest.mark.parametrize("via_host", [True, False])
def test_run_imports_no_grpc_numpy_or_pydicom(host: RunningHost, tmp_path: Path, via_host: bool) -> None:
    script = tmp_path / "hello.py"
    script.write_text("print('hello')\n")
    registry = tmp_path / "tasks.toml"
    registry.write_text(f'[[task]]\nname = "hello"\ntype = "Database"\nlocation = "{script}"\n')
    server = host.address if via_host else "127.0.0.1:1"
    env = host.env(OSIRIX_TASKS_REGISTRY=str(registry), OSIRIX_TASKS_SERVER=server)
    loaded = imported_modules("run", "hello", env=env, cwd=tmp_path)
    assert not loaded & {"grpc", "numpy", "pydicom"}, loaded & {"grpc", "numpy", "pydicom"}
    if via_host:
        assert not loaded & {"pluggy", "pydantic"}  # the host resolves and validates: no catalog, no models here

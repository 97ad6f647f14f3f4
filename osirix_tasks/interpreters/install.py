"""Install the running osirix-tasks into another Python environment (a venv or conda env)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import OsirixTasksError
from .probe import probe
from .wheel import build_wheel

__all__ = ["resolve_interpreter", "install_into"]

#: The oldest Python osirix-tasks runs on (pyproject's requires-python).
MINIMUM_PYTHON = (3, 11)
_CANDIDATES = ("bin/python", "bin/python3", "Scripts/python.exe", "python.exe")


def resolve_interpreter(path: str | os.PathLike[str]) -> Path:
    """The Python of ``path``: an interpreter itself, or an environment folder (venv or conda prefix)."""
    given = Path(path).expanduser()
    if given.is_dir():
        for candidate in _CANDIDATES:
            found = given / candidate
            if found.is_file() and os.access(found, os.X_OK):
                return found.absolute()
        raise OsirixTasksError(
            f"{given} is a folder without a Python in bin/ - give the environment's folder (venv or conda) "
            "or its python executable"
        )
    if not given.exists():
        raise OsirixTasksError(f"{given} does not exist - give a Python executable or an environment folder")
    if not os.access(given, os.X_OK):
        raise OsirixTasksError(f"{given} is not executable - give a Python executable or an environment folder")
    return given.absolute()


def _pip(python: Path, args: Sequence[str], echo: Callable[[str], None]) -> None:
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]
    echo("$ " + " ".join(command))
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise OsirixTasksError(f"pip could not install into {python} (exit {done.returncode}):\n{tail}")


def install_into(
    path: str | os.PathLike[str], *, extras: Sequence[str] = (), echo: Callable[[str], None] = lambda _: None
) -> Path:
    """Build a wheel of this osirix-tasks and pip-install it, with its dependencies, into ``path``'s
    environment; returns the interpreter. The package itself is always replaced (same version or
    not); dependencies come from that pip's index (PyPI, or the configured mirror/cache)."""
    python = resolve_interpreter(path)
    found = probe(str(python))
    if found.problem is not None:
        raise OsirixTasksError(f"{python} {found.problem} - give a Python 3.11 or later, or its environment folder")
    version = tuple(int(part) for part in (found.python or "0.0").split(".")[:2])
    if version < MINIMUM_PYTHON:
        raise OsirixTasksError(
            f"{python} is Python {found.python}; osirix-tasks needs Python "
            f"{'.'.join(map(str, MINIMUM_PYTHON))} or later - create the environment with a newer Python"
        )
    if found.pip is None:
        raise OsirixTasksError(
            f"{python} has no pip - add it with '{python} -m ensurepip --upgrade' (or 'conda install pip'), "
            "then run this again"
        )
    with tempfile.TemporaryDirectory(prefix="osirix-tasks-wheel-") as folder:
        wheel = build_wheel(Path(folder))
        echo(f"built {wheel.name} from {Path(__file__).resolve().parent.parent}")
        requirement = f"{wheel}[{','.join(extras)}]" if extras else str(wheel)
        _pip(python, ["--force-reinstall", "--no-deps", str(wheel)], echo)
        _pip(python, [requirement], echo)
    return python

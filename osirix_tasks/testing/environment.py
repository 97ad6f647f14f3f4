"""An environment whose home, config and data folders are all inside one folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..contract import Env

__all__ = ["isolated_env", "run_cli"]


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment with HOME, the XDG folders and OSIRIX_TASKS_HOME moved into ``home``
    (so nothing touches the real user's files), plus ``extra``."""
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
    )
    env[Env.HOME] = str(home)
    env.pop(Env.REGISTRY, None)
    env.pop(Env.SERVER, None)
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], timeout: float = 120, **popen: Any) -> subprocess.CompletedProcess[str]:
    """Run ``osirix-tasks ARGS`` in a real process with ``env``; text output captured."""
    return subprocess.run(
        [sys.executable, "-m", "osirix_tasks", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        **popen,
    )

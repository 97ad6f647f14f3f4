"""An environment whose home, config and data folders are all inside one folder."""

from __future__ import annotations

import os
from pathlib import Path

from ..contract import Env

__all__ = ["isolated_env"]


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

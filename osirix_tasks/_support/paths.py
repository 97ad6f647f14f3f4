"""Where osirix-tasks keeps its files: registry, per-user data, the plugin's support folder."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from ..contract import Env

__all__ = [
    "APP_NAME",
    "registry_path",
    "user_config_dir",
    "user_data_dir",
    "run_store_path",
    "runtime_dir",
    "uploads_dir",
    "remove_upload",
    "osirixgrpc_support_dir",
]

APP_NAME = "osirix-tasks"


def user_config_dir() -> Path:
    """Per-user configuration folder (the registry's last fallback)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    """Per-user data folder: the embedded OsiriX database, the run store."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def run_store_path() -> Path:
    """The run store (every run's record and output) in the per-user data folder."""
    return user_data_dir() / "runs.sqlite"


def runtime_dir() -> Path:
    """Files that live while a host runs and only their owner may read (folder made 0700, as Jupyter's
    runtime folder): e.g. the page's opening file, which carries its token."""
    folder = user_data_dir() / "runtime"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def uploads_dir() -> Path:
    """Where the page keeps the files it uploads until they are imported (not created here)."""
    return user_data_dir() / "uploads"


def remove_upload(path: str | os.PathLike[str], root: Path | None = None) -> bool:
    """Delete a file the page uploaded, and its batch folder once empty; a path outside the uploads
    folder (``root``, default :func:`uploads_dir`) is left alone. Whether it was an upload."""
    folder = (root or uploads_dir()).resolve()
    try:
        file = Path(path).resolve()
    except (OSError, RuntimeError):
        return False
    if not file.is_relative_to(folder) or file == folder:
        return False
    file.unlink(missing_ok=True)
    if file.parent != folder:
        with contextlib.suppress(OSError):  # other files of the batch may still be there
            file.parent.rmdir()
    return True


def registry_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The tasks.toml in use: ``--registry``, then $OSIRIX_TASKS_REGISTRY, then ./tasks.toml,
    then the per-user config folder."""
    if explicit:
        return Path(explicit).expanduser().absolute()
    env = os.environ.get(Env.REGISTRY)
    if env:
        return Path(env).expanduser().absolute()
    local = Path.cwd() / "tasks.toml"
    if local.exists():
        return local
    return user_config_dir() / "tasks.toml"


def osirixgrpc_support_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The OsiriXgrpc plugin's folder, where server_configs.json lives.

    It is ``~/Library/Application Support/OsirixGRPC`` as pyosirix spells it and looks for it
    on every platform (so unmodified pyosirix scripts find our servers on Linux too), under
    $OSIRIX_TASKS_HOME instead of the user's home when that is set (read from ``environ`` when given:
    the folder another process with that environment uses).
    """
    if environ is None:
        home = os.environ.get(Env.HOME) or os.path.expanduser("~")
    else:
        home = environ.get(Env.HOME) or environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / "Library" / "Application Support" / "OsirixGRPC"

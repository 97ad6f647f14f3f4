"""Atomic file replacement and a cross-process writer lock.

A write goes to a temporary file in the same folder, is fsynced, the previous file is kept as
``<name>.bak``, and the temporary file is renamed over the target. A process killed at any point
leaves either the old file or the new one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import LockBusy, NoBackup

__all__ = ["write_atomic", "writer_lock", "LockBusy", "NoBackup", "restore_backup"]


def write_atomic(path: Path, data: bytes, *, backup: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically, keeping the old content as ``path.bak``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if backup and path.exists():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def writer_lock(path: Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold the writer lock of ``path`` (a ``.lock`` file beside it) for the block."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path.with_name(path.name + ".lock")))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise LockBusy(
            f"{path}: another osirix-tasks process is writing it (lock {lock.lock_file}) - "
            "wait for it to finish, or delete the lock file if no such process exists"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def restore_backup(path: Path) -> Path:
    """Put ``path.bak`` back in place of ``path``; the replaced file is kept as ``path.broken``.

    Raises NoBackup when there is no backup. Callers check the backup is good first.
    """
    path = Path(path)
    backup = path.with_name(path.name + ".bak")
    if not backup.exists():
        raise NoBackup(f"{backup}: no backup to restore - it is written on each change")
    broken = path.with_name(path.name + ".broken")
    with writer_lock(path):
        if path.exists():
            shutil.copy2(path, broken)
        write_atomic(path, backup.read_bytes(), backup=False)
    return broken

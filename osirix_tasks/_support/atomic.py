"""Atomic file replacement and a cross-process writer lock.

A write goes to a temporary file in the same folder, is fsynced, the previous file is kept as
``<name>.bak``, and the temporary file is renamed over the target. A process killed at any point
leaves either the old file or the new one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import FileNotWritable, LockBusy, NoBackup

__all__ = [
    "write_atomic",
    "writer_lock",
    "target_of",
    "LockBusy",
    "NoBackup",
    "FileNotWritable",
    "restore_backup",
    "restore_hint",
    "clean_stale_temporaries",
]


def target_of(path: Path) -> Path:
    """The file a write to ``path`` must change: the target of a symbolic link, else ``path`` itself."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _read_only(path: Path) -> bool:
    """Whether ``path`` is read-only: no write permission for us, or (for root, whom permissions do not
    stop) no write bit at all - a file someone made read-only on purpose."""
    if not os.access(path, os.W_OK):
        return True
    return os.geteuid() == 0 and not path.stat().st_mode & 0o222


def _refuse_read_only(path: Path) -> None:
    if path.exists() and _read_only(path):
        raise FileNotWritable(f"{path} is read-only - nothing was written; make it writable (chmod u+w) to change it")
    folder = path.parent
    if folder.is_dir() and _read_only(folder):
        raise FileNotWritable(
            f"cannot change {path}: its folder {folder} is not writable - nothing was written; check the "
            "folder's permissions"
        )


def write_atomic(path: Path, data: bytes, *, backup: bool = True, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically, keeping the old content as ``path.bak``.

    A symbolic link is followed (its target is replaced, the link stays). The file keeps its
    permissions; a new file gets ``mode`` (default: 0666 less the umask). A read-only file, or a folder
    that cannot be written, raises FileNotWritable and leaves everything as it was.
    """
    path = target_of(Path(path))
    _refuse_read_only(path)
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
    elif mode is None:
        mode = 0o666 & ~_umask()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temporaries(path)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except PermissionError:
        raise FileNotWritable(
            f"cannot write {path}: its folder {path.parent} is not writable - nothing was written; check the "
            "folder's permissions"
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        if backup and path.exists():
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


#: A temporary file of ours older than this was left by a killed writer (a write takes milliseconds).
STALE_SECONDS = 600.0


def clean_stale_temporaries(path: Path, now: float | None = None) -> list[Path]:
    """Delete the temporary files that writes of ``path`` by killed processes left beside it
    (``.NAME.XXXXXXXX.tmp``, older than :data:`STALE_SECONDS`); returns those deleted."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.tmp")
    cutoff = (time.time() if now is None else now) - STALE_SECONDS
    removed: list[Path] = []
    try:
        candidates = [entry for entry in os.scandir(path.parent) if pattern.fullmatch(entry.name)]
    except OSError:
        return removed
    for entry in candidates:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


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
    """Hold the writer lock of ``path`` (a ``.lock`` file beside the file a write changes: the target of
    a symbolic link) for the block. A read-only file or folder raises FileNotWritable at once."""
    from filelock import FileLock, Timeout

    path = target_of(Path(path))
    _refuse_read_only(path)
    lock = FileLock(str(path.with_name(path.name + ".lock")))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=timeout)
    except PermissionError:
        raise FileNotWritable(
            f"cannot change {path}: its folder {path.parent} is not writable - nothing was written; check the "
            "folder's permissions"
        ) from None
    except Timeout as exc:
        raise LockBusy(
            f"{path}: another osirix-tasks process is writing it (lock {lock.lock_file}) - "
            "wait for it to finish, or delete the lock file if no such process exists"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def restore_hint(path: Path, command: str) -> str:
    """``, or put the previous version back with 'COMMAND'`` when ``path`` has a backup to restore, else ''."""
    if Path(path).with_name(Path(path).name + ".bak").exists():
        return f", or put the previous version back with '{command}'"
    return ""


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

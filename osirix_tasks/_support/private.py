"""Owner-only files and folders: what holds patient data, task output or credentials.

Task output holds patient names, a task's ``env`` holds secrets, the database holds the images:
every such file is created 0600 in a 0700 folder, and one found with looser permissions (made by an
earlier version, or by hand) is tightened when it is opened. Only what belongs to this user is
changed; what another user owns is left alone.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

__all__ = ["private_folder", "private_file", "private_sqlite", "open_private", "SQLITE_COMPANIONS"]

#: Files SQLite keeps beside a database in WAL mode (created with the database's mode).
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _shared(path: Path, found: os.stat_result) -> bool:
    """Folders that are never ours to close: sticky ones (``/tmp``), the root, the home folder."""
    if not stat.S_ISDIR(found.st_mode):
        return False
    return bool(found.st_mode & stat.S_ISVTX) or path.resolve() in (Path("/"), Path.home().resolve())


def _tighten(path: Path, mode: int) -> None:
    """Take the group and other bits off ``path`` when this user owns it (not following links)."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        found = path.lstat()
        if stat.S_ISLNK(found.st_mode) or found.st_uid != os.geteuid() or _shared(path, found):
            return
        if stat.S_IMODE(found.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(found.st_mode) & mode)


def private_folder(path: Path, *, tighten: bool = True) -> Path:
    """Create ``path`` (and missing parents) owner-only (0700); an existing one is made so when
    ``tighten`` (a folder of ours alone: not a folder the user chose for other things too)."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if tighten:
        _tighten(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and owner-only (0600), or make an existing one so (its content is kept).

    An existing file is never opened: closing a descriptor of a SQLite database would drop the locks
    of every connection of this process to it (POSIX advisory locks belong to the process).
    """
    path = Path(path)
    if not os.path.lexists(path):
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    _tighten(path, 0o600)
    return path


def private_sqlite(path: Path, *, own_folder: bool) -> Path:
    """A SQLite database ``path``, itself and its companion files owner-only, in a folder created 0700
    (an existing one tightened when ``own_folder``: it is ours alone). SQLite gives the write-ahead
    log and shared memory files it creates the database's mode."""
    path = Path(path)
    private_folder(path.parent, tighten=own_folder)
    private_file(path)
    for suffix in SQLITE_COMPANIONS:
        _tighten(path.with_name(path.name + suffix), 0o600)
    return path


def open_private(path: Path, mode: str = "wb") -> int:
    """A descriptor of ``path`` opened for writing, created 0600 (an existing file is tightened);
    ``mode`` with ``x`` creates it or raises FileExistsError (never overwrites), with ``a`` appends."""
    if "x" in mode:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    _tighten(Path(path), 0o600)
    return fd

"""How much more output the run store can take before a full disk would leave no room for a run's end.

In write-ahead-log mode every byte of output is written twice: appended to the log while the run
goes on, then copied into the store file when the run has ended. A run that filled the disk with
its log could then record neither the copy nor its own end. So output is kept only while both
writes fit, with :data:`RESERVE_BYTES` left over for the run's end (and the next run's start). Two
limits count: the free space of the store's file system, and the largest file this process may
write (``RLIMIT_FSIZE``: a quota, a ``ulimit -f``).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

__all__ = ["room_for_output", "RESERVE_BYTES"]

#: Kept free for the run's end record, the log's copy, and the next run's start.
RESERVE_BYTES = 256 * 1024


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def room_for_output(store: Path) -> int:
    """Bytes of output the store at ``store`` may still take (0 when it is at its reserve)."""
    main = _size(store)
    log = _size(store.with_name(store.name + "-wal"))
    rooms = []
    try:
        found = os.statvfs(store.parent)
        rooms.append((found.f_bavail * found.f_frsize - RESERVE_BYTES) // 2)  # the log, then the file
    except OSError:
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        # the log grows by what is kept; the file, at the copy, by as much again
        rooms.append(soft - max(main, log) - log - RESERVE_BYTES)
    return max(0, min(rooms, default=2**62))

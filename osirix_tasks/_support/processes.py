"""Whether a process is alive, without importing psutil (the CLI's lean paths use it)."""

from __future__ import annotations

import os

__all__ = ["pid_alive"]


def pid_alive(pid: int | None) -> bool:
    """Whether a process exists (zombies count as gone)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True

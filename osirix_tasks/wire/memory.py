"""The C allocator's behaviour for large transfers (glibc only; a no-op elsewhere).

Pixel transfers allocate and free a few megabytes per plane in several threads. With glibc's
defaults each freed block at the top of a thread's heap is handed back to the kernel and the next
plane faults fresh zeroed pages in again, which costs more than the copy itself.
:func:`tune_allocator` keeps blocks below 32 MB in the heaps and lets up to 64 MB of free space stay
there; larger blocks still go straight back to the kernel when freed. :func:`release_memory` gives
every free page back (``malloc_trim``), for after a burst of large requests.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from functools import cache
from typing import Any

__all__ = ["tune_allocator", "release_memory", "MMAP_THRESHOLD_BYTES", "TRIM_THRESHOLD_BYTES"]

#: Blocks at least this large are mapped on their own and unmapped when freed (glibc's maximum).
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
#: Free space a heap may keep at its top before it is given back to the kernel.
TRIM_THRESHOLD_BYTES = 8 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_lock = threading.Lock()
_tuned = False


@cache
def _glibc() -> Any | None:
    """glibc's handle, or None on other C libraries (macOS, musl)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def tune_allocator() -> bool:
    """Set the thresholds above once per process; whether the allocator is glibc's (and so tuned)."""
    global _tuned
    libc = _glibc()
    if libc is None:
        return False
    with _lock:
        if not _tuned:
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
            libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
            _tuned = True
    return True


def release_memory() -> bool:
    """Give every free page of every heap back to the kernel; whether anything was released."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))

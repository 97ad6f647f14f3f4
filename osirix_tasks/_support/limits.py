"""Process limits a host needs: as many open files as the system allows it."""

from __future__ import annotations

import logging

__all__ = ["raise_open_files_limit"]

log = logging.getLogger(__name__)


def raise_open_files_limit() -> tuple[int, int] | None:
    """Raise the soft limit of open files (RLIMIT_NOFILE) to the hard limit; the (soft, hard) limits
    in force afterwards, or None where the platform has no such limit.

    Every gRPC and web connection holds a descriptor; a soft limit of 1024 (common) under a hard
    one of a million is a limit nobody chose. Where the hard limit is unlimited (macOS), the highest
    of a few customary values the system accepts is taken.
    """
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = [hard] if hard != resource.RLIM_INFINITY else [1 << 20, 65536, 10240]
    for value in wanted:
        if soft != resource.RLIM_INFINITY and value <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (value, hard))
        except (ValueError, OSError):
            continue
        log.info("open files limit raised from %d to %d", soft, value)
        break
    return resource.getrlimit(resource.RLIMIT_NOFILE)

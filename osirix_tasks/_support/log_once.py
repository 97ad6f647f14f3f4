"""Say a repeated log message once, not once per occurrence (a flood of connections must not flood the log)."""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["RepeatFilter", "quiet_repeats"]


class RepeatFilter(logging.Filter):
    """Lets a message (by logger and text template) through once per ``seconds``; the next one that
    passes says how many were held back meanwhile."""

    def __init__(self, seconds: float = 60.0):
        super().__init__()
        self.seconds = seconds
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            last, held = self._seen.get(key, (float("-inf"), 0))
            if now - last < self.seconds:
                self._seen[key] = (last, held + 1)
                return False
            self._seen[key] = (now, 0)
            if len(self._seen) > 1000:
                self._seen = {key: (now, 0)}
        if held:
            record.msg = f"{record.msg} (and {held} more like it in the last {self.seconds:.0f} s)"
        return True


_installed: set[str] = set()
_install_lock = threading.Lock()


def quiet_repeats(*names: str, seconds: float = 60.0) -> None:
    """Install a RepeatFilter on the named loggers (once per logger)."""
    with _install_lock:
        for name in names:
            if name not in _installed:
                logging.getLogger(name).addFilter(RepeatFilter(seconds))
                _installed.add(name)

"""Bounds on the page's server-sent event streams: how many are open at once and for how long.

Each stream holds a connection and polls the run store, so a page left open in many tabs (or a
client that opens streams and never reads them) must not pile them up. A stream ends by itself
after ``STREAM_SECONDS``; the page then opens a new one with a new ticket and goes on where it was.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ..errors import TooManyStreams

__all__ = ["StreamLimit", "StreamSlot", "TooManyStreams", "MAX_STREAMS", "STREAM_SECONDS"]

#: Event streams open at once (a page uses one for the run list and one per followed output).
MAX_STREAMS = 16
#: How long one stream lasts before the page reconnects.
STREAM_SECONDS = 300.0


@dataclass
class StreamSlot:
    """One open stream: released once, when it ends or its client goes away."""

    limit: StreamLimit
    ends: float
    _released: bool = field(default=False, repr=False)

    @property
    def expired(self) -> bool:
        """True once the stream has lasted its time (the page reconnects)."""
        return time.monotonic() >= self.ends

    def release(self) -> None:
        """Give the slot back (a second call does nothing)."""
        if not self._released:
            self._released = True
            self.limit.give_back()


class StreamLimit:
    """The event streams open now (thread-safe)."""

    def __init__(self, most: int = MAX_STREAMS, seconds: float = STREAM_SECONDS):
        self.most = most
        self.seconds = seconds
        self._open = 0
        self._lock = threading.Lock()

    @property
    def open(self) -> int:
        """How many streams are open."""
        return self._open

    def take(self) -> StreamSlot:
        """A slot for a new stream; TooManyStreams when all ``most`` are taken."""
        with self._lock:
            if self._open >= self.most:
                raise TooManyStreams(
                    f"{self._open} event streams of this page are open already - close other tabs of it and reload"
                )
            self._open += 1
        return StreamSlot(self, time.monotonic() + self.seconds)

    def give_back(self) -> None:
        """One stream ended."""
        with self._lock:
            self._open = max(0, self._open - 1)

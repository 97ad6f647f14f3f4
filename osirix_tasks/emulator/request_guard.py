"""Memory guards for requests: size limits checked before parsing, few large requests at once,
and the memory of large requests handed back to the system afterwards.

gRPC has received a request completely before any of our code sees it; what we control is what
happens next. A request over its call's limit is answered ``status = 0`` without being parsed (a
protobuf parse would copy it once more). Requests of :data:`LARGE_REQUEST_BYTES` or more are
parsed in a worker thread (not on gRPC's polling thread, which parses the small ones) and at most
:data:`LARGE_AT_ONCE` at a time. After each one, a background thread returns the freed pages to
the kernel (``malloc_trim``), after a cyclic garbage collection (a request caught in a reference
cycle, e.g. through an exception's traceback, is otherwise freed only whenever the collector next
happens to run, and an idle host may not run it for a long time), so a burst of huge requests -
accepted or refused - does not stay in the host's resident memory.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..wire.memory import release_memory
from ..wire.options import MAX_MESSAGE_BYTES

__all__ = [
    "RequestGuard",
    "Oversized",
    "limit_for",
    "LARGE_REQUEST_BYTES",
    "LARGE_AT_ONCE",
    "SMALL_CALL_LIMIT_BYTES",
    "BULK_CALLS",
]

#: Calls whose requests carry pixel-sized data (a plane, a mask, a contour): the plugin's own limit.
BULK_CALLS = frozenset({"DCMPixSetImage", "ViewerControllerNewROI", "ROISetPoints"})
#: Every other request names objects or sets a few values; none is legitimately this large.
SMALL_CALL_LIMIT_BYTES = 64 * 1024 * 1024
#: From this size on a request counts as large.
LARGE_REQUEST_BYTES = 16 * 1024 * 1024
#: Large requests parsed and handled at the same time (others wait their turn).
LARGE_AT_ONCE = 2
#: Seconds between the end of a large request and the memory release (lets gRPC drop its buffers).
RELEASE_DELAY = 0.2
#: ...and once more after this long without large requests.
SETTLE_SECONDS = 1.0


def limit_for(rpc: str) -> int:
    """The largest request ``rpc`` accepts, in bytes."""
    return MAX_MESSAGE_BYTES if rpc in BULK_CALLS else SMALL_CALL_LIMIT_BYTES


@dataclass(frozen=True)
class Oversized:
    """Stands for a request that was over its limit and was not parsed."""

    rpc: str
    size: int
    limit: int

    def message(self) -> str:
        """The status-0 message: what was refused and what to do."""
        return (
            f"{self.rpc}: the request is {self.size / 2**20:.0f} MiB, more than the {self.limit / 2**20:.0f} MiB "
            "this call accepts - send less data per call"
        )


class _Large:
    """A large request not parsed yet: it is parsed in the worker thread once it has a slot.

    (gRPC calls the request parser on its one polling thread, which must never wait.)
    """

    def __init__(self, data: bytes, parse: Callable[[bytes], Any]):
        self.data: bytes | None = data
        self.parse = parse


class RequestGuard:
    """Wraps each call's request parser and behaviour with the guards above."""

    def __init__(self) -> None:
        self._large = threading.BoundedSemaphore(LARGE_AT_ONCE)
        self._wake = threading.Event()
        self._releaser: threading.Thread | None = None
        self._start_lock = threading.Lock()
        #: How many times memory was released (for tests and diagnostics).
        self.releases = 0

    def parser(self, rpc: str, parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
        """``parse`` preceded by the size checks of ``rpc`` (large requests are parsed later)."""
        limit = limit_for(rpc)

        def guarded(data: bytes) -> Any:
            size = len(data)
            if size > limit:
                self.release_soon()
                return Oversized(rpc, size, limit)
            if size >= LARGE_REQUEST_BYTES:
                return _Large(data, parse)
            return parse(data)

        return guarded

    def behaviour(
        self, rpc: str, call: Callable[[Any, Any], Any], refuse: Callable[[str, str], Any]
    ) -> Callable[[Any, Any], Any]:
        """``call`` that answers oversized requests with ``refuse(rpc, message)`` and handles large
        ones at most :data:`LARGE_AT_ONCE` at a time."""

        def guarded(request: Any, context: Any) -> Any:
            if isinstance(request, Oversized):
                return refuse(rpc, request.message())
            if not isinstance(request, _Large):
                return call(request, context)
            with self._large:
                try:
                    data, request.data = request.data, None
                    assert data is not None
                    try:
                        parsed = request.parse(data)
                    except Exception as exc:
                        return refuse(rpc, f"{rpc}: the request could not be decoded: {exc}")
                    del data
                    return call(parsed, context)
                finally:
                    self.release_soon()

        return guarded

    def release_soon(self) -> None:
        """Return freed memory to the system shortly (one release for a burst of requests)."""
        with self._start_lock:
            if self._releaser is None:
                self._releaser = threading.Thread(target=self._release_loop, name="memory-release", daemon=True)
                self._releaser.start()
        self._wake.set()

    def _release_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            time.sleep(RELEASE_DELAY)
            _collect_and_release()
            self.releases += 1
            # gRPC frees some buffers only once the answer is sent: release once more after a
            # quiet second (a new request in between starts the cycle again instead).
            if not self._wake.wait(SETTLE_SECONDS):
                _collect_and_release()


def _collect_and_release() -> None:
    """Free what only the cyclic collector would free, then hand the free pages back."""
    gc.collect()
    release_memory()

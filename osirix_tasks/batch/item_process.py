"""One item's process on a worker: its output kept (bounded, decoded as it arrives), its timeout and
cancel enforced on its whole process group (SIGTERM, then SIGKILL after the grace period).

The same loop serves a script (one process per item, done when its pipes close and it exits) and
the warm process of decorated tasks (done when the item's end arrives on the result pipe).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import pickle
import selectors
import signal
import struct
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..run.streams import STDERR, STDOUT, SYSTEM
from .item import MAX_ITEM_OUTPUT

__all__ = ["OutputKeeper", "Watch", "pump"]

_READ_BYTES = 1 << 16
_HEADER = struct.Struct(">Q")
#: Bytes of stdout remembered at the end for a script's last line (its record).
_TAIL_CHARS = 1 << 16


class OutputKeeper:
    """An item's output: pieces (stream, time, text) up to a cap, then only counted; the end of stdout
    is remembered whatever the cap (a script's last line is its record)."""

    def __init__(self, cap: int = MAX_ITEM_OUTPUT):
        self.cap = cap
        self.pieces: list[tuple[int, float, str]] = []
        self.kept = 0
        self.dropped = 0
        self.tail = ""
        #: The item's record, once known.
        self.result: dict[str, Any] | None = None
        #: What a remote item asked OsiriX to keep (its SEG and ROIs), once known.
        self.writes: list[Any] = []
        self._decoders = {s: codecs.getincrementaldecoder("utf-8")("replace") for s in (STDOUT, STDERR)}

    def add_bytes(self, stream: int, data: bytes, *, final: bool = False) -> None:
        """Decode and keep a block read from ``stream`` (``final``: the stream has ended)."""
        text = self._decoders[stream].decode(data, final)
        if text:
            self.add(stream, text)

    def add(self, stream: int, text: str) -> None:
        """Keep some text of ``stream`` (the runner's own lines are SYSTEM)."""
        if stream == STDOUT:
            self.tail = (self.tail + text)[-_TAIL_CHARS:]
        size = len(text.encode("utf-8", "replace"))
        if self.kept + size > self.cap and stream != SYSTEM:
            self.dropped += size
            return
        self.kept += size
        if self.pieces and self.pieces[-1][0] == stream:
            last = self.pieces[-1]
            self.pieces[-1] = (stream, last[1], last[2] + text)
        else:
            self.pieces.append((stream, time.time(), text))

    def finish(self) -> None:
        """The streams have ended: flush the decoders, say what was dropped."""
        for stream in (STDOUT, STDERR):
            self.add_bytes(stream, b"", final=True)
        if self.dropped:
            self.add(SYSTEM, f"[{self.dropped} bytes of output past the item's {self.cap} byte cap were not kept]\n")

    def last_line(self) -> str:
        """The last non-empty line of stdout."""
        lines = [line for line in self.tail.splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""


@dataclass
class Watch:
    """How an item's wait ended and what it must stop for: the deadline, and a cancel check."""

    timeout: float | None
    cancelled: Callable[[], bool]
    grace: float = 5.0
    timed_out: bool = False
    was_cancelled: bool = False
    kill_at: float | None = None
    result: Any = None
    _result_bytes: bytearray = field(default_factory=bytearray)

    def stop(self, pgid: int, reason: str) -> None:
        """SIGTERM to the group, once; SIGKILL follows after the grace period."""
        if self.kill_at is None:
            setattr(self, reason, True)
            self.kill_at = time.monotonic() + self.grace
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)

    def take_result(self, data: bytes) -> None:
        """Bytes from the result pipe: a frame once complete."""
        self._result_bytes += data
        if len(self._result_bytes) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._result_bytes)
            if len(self._result_bytes) >= _HEADER.size + size:
                self.result = pickle.loads(bytes(self._result_bytes[_HEADER.size : _HEADER.size + size]))  # noqa: S301


def _drain(fd: int, stream: int, keeper: OutputKeeper) -> bool:
    """Read what ``fd`` holds now; False at end of file."""
    while True:
        try:
            data = os.read(fd, _READ_BYTES)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        keeper.add_bytes(stream, data)


def _enforce(process: subprocess.Popen[bytes], watch: Watch, deadline: float | None) -> None:
    """The timeout and the cancel: SIGTERM to the group once, SIGKILL after the grace period."""
    now = time.monotonic()
    if deadline is not None and now >= deadline:
        watch.stop(process.pid, "timed_out")
    if watch.cancelled():
        watch.stop(process.pid, "was_cancelled")
    if watch.kill_at is not None and now >= watch.kill_at:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def _read_ready(selector: selectors.BaseSelector, keeper: OutputKeeper, watch: Watch) -> None:
    for key, _ in selector.select(timeout=0.05):
        fd = int(key.fd)
        if key.data is None:
            _read_result(fd, watch, selector)
        elif not _drain(fd, key.data, keeper):
            selector.unregister(fd)


def pump(process: subprocess.Popen[bytes], keeper: OutputKeeper, watch: Watch, *, result_fd: int | None = None) -> None:
    """Keep the process's output until it is done: its pipes closed and it exited, or (with
    ``result_fd``) the item's end frame arrived. Enforces the timeout and the cancel on its group."""
    assert process.stdout is not None and process.stderr is not None
    selector = selectors.DefaultSelector()
    pipes = {process.stdout.fileno(): STDOUT, process.stderr.fileno(): STDERR}
    for fd, stream in pipes.items():
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ, stream)
    if result_fd is not None:
        os.set_blocking(result_fd, False)
        selector.register(result_fd, selectors.EVENT_READ, None)
    deadline = time.monotonic() + watch.timeout if watch.timeout else None
    # Once the process has exited: what the task left behind may hold the pipes (a script), or the
    # warm process died mid-item (no end frame will come).
    linger = 1.0 if result_fd is None else 0.2
    exited_at: float | None = None
    try:
        while selector.get_map() and watch.result is None:
            _read_ready(selector, keeper, watch)
            _enforce(process, watch, deadline)
            if process.poll() is not None:
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at > linger:
                    break
        for fd, stream in pipes.items():  # what was written before the end frame
            if fd in selector.get_map():
                _drain(fd, stream, keeper)
    finally:
        selector.close()


def _read_result(fd: int, watch: Watch, selector: selectors.BaseSelector) -> None:
    try:
        data = os.read(fd, _READ_BYTES)
    except BlockingIOError:
        return
    if not data:
        selector.unregister(fd)
        return
    watch.take_result(data)

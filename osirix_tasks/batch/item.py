"""What travels between the batch driver and a Dask worker: an item to run, and how it ended.

Both are plain dataclasses (pickled by Dask). An item carries everything its run needs, so a worker
on another machine needs nothing from the driver's files: the command and environment planned by the
run service, and, for a task that works on pixels, the pixels themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ItemSpec", "ItemOutcome", "MAX_ITEM_OUTPUT"]

#: Output kept per item (the rest is counted, and one line says so).
MAX_ITEM_OUTPUT = 1 << 20


@dataclass
class ItemSpec:
    """One item of a batch, as a worker runs it."""

    batch_id: str
    index: int
    attempt: int
    run_id: str
    #: ``decorated`` (run in the worker's warm process) or ``script`` (a process of its own).
    kind: str
    command: list[str]
    cwd: str
    env: dict[str, str]
    timeout: float | None = None
    #: For a task that works on pixels: the arrays and geometry shipped with the item.
    pixels: dict[str, Any] | None = None
    grace: float = 5.0

    @property
    def key(self) -> str:
        """The item's Dask key (unique per attempt)."""
        return f"osirix-batch-{self.batch_id}-{self.index}-{self.attempt}"


@dataclass
class ItemOutcome:
    """How an item's attempt ended, with its output and its record (the task's result)."""

    batch_id: str
    index: int
    attempt: int
    run_id: str
    status: str
    exit_code: int | None
    signal: int | None
    started: float
    ended: float
    worker: str
    #: Output as (stream, time, text) pieces, at most :data:`MAX_ITEM_OUTPUT` bytes kept.
    output: list[tuple[int, float, str]] = field(default_factory=list)
    output_dropped: int = 0
    #: The item's record: a decorated task's returned mapping, or a script's last stdout line as JSON.
    result: dict[str, Any] | None = None
    message: str | None = None
    #: A succeeded item that worked on shipped pixels: the SEG and ROIs it asked OsiriX to keep, written by
    #: the driver when the item returns (:mod:`.write_back`); a failed attempt's are dropped.
    writes: list[Any] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds the attempt ran."""
        return self.ended - self.started

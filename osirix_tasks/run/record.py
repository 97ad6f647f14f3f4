"""A run's record and its output chunks as the run store keeps them (no heavy imports: the CLI reads
records a host sends back)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RunRecord", "OutputChunk"]


@dataclass(frozen=True)
class RunRecord:
    """One run, as recorded."""

    id: str
    task_name: str
    task_type: str
    spec: dict[str, Any]
    command: list[str]
    cwd: str
    env: dict[str, str]
    server: str | None
    blocking: bool
    background: bool
    status: str
    pid: int | None
    supervisor_pid: int | None
    started: float
    ended: float | None
    exit_code: int | None
    signal: int | None
    cancelled: bool
    timed_out: bool
    timeout: float | None
    message: str | None
    #: Bytes of output not kept because the run went past the store's output cap.
    output_dropped: int = 0
    #: The last moment its supervisor was known alive (a lost run ends there).
    seen: float | None = None
    #: Bytes of output that could not be stored (a full disk, a broken store): lost.
    output_lost: int = 0
    #: What started the run when a DICOM node's trigger did: the trigger, the study/series, the sender.
    triggered_by: dict[str, Any] | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (None while running)."""
        return None if self.ended is None else self.ended - self.started

    @property
    def finished(self) -> bool:
        """Whether the run has ended."""
        from ..model import RunStatus

        return RunStatus(self.status).finished

    def to_json(self) -> dict[str, Any]:
        """Every field plus the duration."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["duration"] = self.duration
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        """A record from :meth:`to_json` (a host's reply)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class OutputChunk:
    """Some output of a run: stream (1 stdout, 2 stderr, 0 the runner's own lines), time, text."""

    seq: int
    stream: int
    at: float
    text: str

"""The streams of a run's output, as the run store numbers them (no heavy imports: the CLI echoes them)."""

from __future__ import annotations

__all__ = ["STDOUT", "STDERR", "SYSTEM", "STREAM_NAMES"]

#: stdout and stderr of the task; SYSTEM is the runner's own lines (started, finished ...).
STDOUT, STDERR, SYSTEM = 1, 2, 0
STREAM_NAMES = {STDOUT: "stdout", STDERR: "stderr", SYSTEM: "system"}

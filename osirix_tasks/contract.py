"""The contract between the runner and a task's process: environment variables and exit codes.

A task process (a script started as ``<interpreter> -u script.py`` or a decorated task started by
the launcher) learns everything from its environment, and tells how it ended by its exit code.
Both sides read the names and numbers from here.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["Env", "ExitCode", "INHERITED", "SIGNAL_EXIT_BASE", "Target", "exit_code_of"]


class Env(enum.StrEnum):
    """Environment variables osirix-tasks reads or sets."""

    #: host:port of the OsiriX server the task talks to (set by the runner).
    SERVER = "OSIRIX_TASKS_SERVER"
    #: The run's id in the run store (set by the runner).
    RUN_ID = "OSIRIX_TASKS_RUN_ID"
    #: The task's name, as started (set by the runner).
    TASK_NAME = "OSIRIX_TASKS_TASK_NAME"
    #: The task's type as started: Database, Image, VRController or ROI (set by the runner).
    TASK_TYPE = "OSIRIX_TASKS_TASK_TYPE"
    #: The tasks.toml to use (user setting; the runner passes it on).
    REGISTRY = "OSIRIX_TASKS_REGISTRY"
    #: Replaces ``~`` for the OsiriXgrpc support folder (user setting, used by tests).
    HOME = "OSIRIX_TASKS_HOME"
    #: The folder pyosirix is shown as ``~`` in a run given a server pyosirix would not pick
    #: (set by the runner; read by ``run/_pyosirix_site/sitecustomize.py``, which spells it out).
    PYOSIRIX_HOME = "OSIRIX_TASKS_PYOSIRIX_HOME"
    #: The run's explicit target as JSON (:class:`Target`); absent for "what the user looks at".
    TARGET = "OSIRIX_TASKS_TARGET"
    #: MB one pixel decode of the embedded OsiriX may allocate (user setting; ``serve``/``import --max-decode-mb``).
    MAX_DECODE_MB = "OSIRIX_TASKS_MAX_DECODE_MB"
    #: "1": a host serves other users' processes on its gRPC ports too (user setting; ``serve --allow-other-users``).
    ALLOW_OTHER_USERS = "OSIRIX_TASKS_ALLOW_OTHER_USERS"


#: Variables of the caller's environment that a run inherits, beside HOME and PATH.
INHERITED = (Env.HOME, "LANG", "LC_ALL", "XDG_CONFIG_HOME", "XDG_DATA_HOME")


class ExitCode(enum.IntEnum):
    """Exit codes of a task process and of ``osirix-tasks run``."""

    #: The task ended normally.
    OK = 0
    #: The task body raised.
    TASK_FAILED = 1
    #: The decorated task could not be imported.
    NOT_LOADED = 2
    #: What the task's type needs is not open or selected in OsiriX (or no server is known).
    CONTEXT_UNAVAILABLE = 3
    #: ``osirix-tasks run``: the run was stopped by its timeout.
    TIMED_OUT = 124
    #: ``osirix-tasks run``: the run was cancelled.
    CANCELLED = 130


#: A run ended by signal N exits ``osirix-tasks run`` with 128 + N, as shells do.
SIGNAL_EXIT_BASE = 128


def exit_code_of(*, exit_code: int | None, signal: int | None, timed_out: bool, cancelled: bool) -> int:
    """The exit code of ``osirix-tasks run`` for a finished run."""
    if timed_out:
        return ExitCode.TIMED_OUT
    if cancelled:
        return ExitCode.CANCELLED
    if signal:
        return SIGNAL_EXIT_BASE + signal
    return exit_code if exit_code is not None else ExitCode.TASK_FAILED


@dataclasses.dataclass(frozen=True)
class Target:
    """What a run acts on when it is given explicitly (a batch item, a trigger, ``run --series``),
    instead of what the user looks at (the frontmost viewer, the browser selection).

    ``study`` is a StudyInstanceUID, ``series`` a SeriesInstanceUID as OsiriX keeps it, ``viewer``
    the ``osirixrpc_uid`` of an open ViewerController, ``rois`` the names of the ROIs an ROI task
    works on (every ROI of the series when empty). The context hooks build the context from it.
    """

    study: str | None = None
    series: str | None = None
    viewer: str | None = None
    rois: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The fields that are set, as plain data."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items() if v}

    def to_env(self) -> str:
        """The JSON the runner puts in :attr:`Env.TARGET`."""
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(cls, fields: Mapping[str, Any]) -> Target:
        """A target from :meth:`to_json`'s data (TypeError/ValueError when it is not one)."""
        unknown = set(fields) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown target field(s): {', '.join(sorted(unknown))}")
        rois = fields.get("rois") or ()
        if isinstance(rois, str):
            raise ValueError("rois must be a list of ROI names")
        return cls(
            study=fields.get("study"), series=fields.get("series"), viewer=fields.get("viewer"), rois=tuple(rois)
        )

    @classmethod
    def from_env(cls, value: str | None) -> Target | None:
        """The target a task process was given, or None (a malformed value is an error naming the variable)."""
        if not value:
            return None
        try:
            return cls.from_json(json.loads(value))
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{Env.TARGET} is not a target ({exc}) - it is set by osirix-tasks, not by hand") from None

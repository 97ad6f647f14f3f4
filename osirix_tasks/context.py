"""What a running task receives: the task, its connection to OsiriX and its objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import TaskSpec

__all__ = ["TaskContext"]


@dataclass
class TaskContext:
    """The context handed to a task body.

    ``stub`` is an ``osirixgrpc`` OsiriXServiceStub connected to ``server``. The object fields
    hold ``osirixgrpc`` references, filled by the context hooks according to the task type:
    Database -> ``browser``, ``studies``, ``series`` (the browser selection); Image ->
    ``viewer``, ``pix``; ROI -> ``viewer``, ``rois``; VRController -> ``vr_controller``.
    Plugins may put anything else in ``extras``.
    """

    task: TaskSpec
    server: str | None = None
    run_id: str | None = None
    args: list[str] = field(default_factory=list)
    stub: Any = None
    browser: Any = None
    studies: list[Any] = field(default_factory=list)
    series: list[Any] = field(default_factory=list)
    viewer: Any = None
    pix: Any = None
    rois: list[Any] = field(default_factory=list)
    vr_controller: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

"""What a running task receives: the task, its connection to OsiriX and its objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ContextUnavailable
from ..model import TaskSpec

__all__ = ["TaskContext", "ContextUnavailable"]


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
    connection: Any = None
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

    def pyosirix(self) -> Any:
        """A pyosirix ``Osirix`` object bound to the same server (pyosirix must be installed)."""
        try:
            from osirix import osirix_utilities
        except ImportError as exc:
            raise ContextUnavailable("pyosirix is not installed for this interpreter - pip install pyosirix") from exc
        if not self.server:
            raise ContextUnavailable("no OsiriX server is known to this task")
        host, _, port = self.server.rpartition(":")
        service = osirix_utilities.OsirixService(domain=host or "127.0.0.1", port=int(port))
        service.start_service()
        return osirix_utilities.Osirix(service)

    def close(self) -> None:
        """Close the connection."""
        if self.connection is not None:
            self.connection.close()

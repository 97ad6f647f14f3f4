"""The context a task body receives: its task, its connection to OsiriX and the objects it acts on.

The context hooks (:mod:`osirix_tasks.hookspecs`) fill it according to the task type; the task body
reads it and may save results through it (:meth:`TaskContext.save_segmentation`,
:meth:`TaskContext.add_roi`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

from .errors import ContextUnavailable
from .model import TaskSpec

__all__ = ["TaskContext"]


@dataclasses.dataclass
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
    args: list[str] = dataclasses.field(default_factory=list)
    stub: Any = None
    browser: Any = None
    studies: list[Any] = dataclasses.field(default_factory=list)
    series: list[Any] = dataclasses.field(default_factory=list)
    viewer: Any = None
    pix: Any = None
    rois: list[Any] = dataclasses.field(default_factory=list)
    vr_controller: Any = None
    #: A task declared ``pixels=True``: its series' pixels (slices, rows, columns; float32), geometry in
    #: ``extras``; read by the context hook, or shipped with a batch item to a worker that cannot reach OsiriX.
    volume: Any = None
    #: The run's explicit target (a batch item, a trigger), or None for what the user looks at.
    target: Any = None
    #: A batch item on a worker that cannot reach OsiriX (its pixels shipped, no connection): what the task
    #: asks OsiriX to keep (a SEG, ROIs), sent back with the item and written by the OsiriX machine
    #: (:class:`osirix_tasks.client.deferred.Deferred`); None when the run reaches OsiriX itself.
    deferred: Any = None
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Called by :meth:`close`, last added first (a viewer opened for the run is closed again).
    cleanups: list[Callable[[], None]] = dataclasses.field(default_factory=list)

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

    def save_segmentation(self, labels: Any, names: Any = None, **options: Any) -> Any:
        """Save a label mask of the viewer's series (slices x rows x columns, 0 = background) as a DICOM
        SEG in OsiriX's database and show each label as brush ROIs in the viewer; ``names``: one per
        label (a list, label 1 first, or a mapping). Options and result:
        :func:`osirix_tasks.client.segmentation.save_segmentation`."""
        from .client.segmentation import save_segmentation

        if self.deferred is not None:  # a remote batch item: the OsiriX machine saves it when the item returns
            return self.deferred.save_segmentation(labels, names, **options)
        if self.viewer is None or self.connection is None:
            raise ContextUnavailable("no 2D viewer in this task's context - open the series to segment first")
        return save_segmentation(self.connection, self.viewer, labels, names, **options)

    def add_roi(self, kind: str, **shape: Any) -> Any:
        """Draw an ROI on the viewer's series (kept with it, as OsiriX keeps ROIs); ``kind`` and ``shape``
        (``name``, ``box``, ``points``, ``mask``, ``slice``, ``frame``, ``color``) as
        :func:`osirix_tasks.client.viewer_tools.add_roi` takes them. Returns the ROI's reference, or None
        on a remote batch item (the OsiriX machine draws it when the item returns)."""
        from .client.viewer_tools import add_roi

        if self.deferred is not None:
            return self.deferred.add_roi(kind, **shape)
        if self.viewer is None or self.connection is None:
            raise ContextUnavailable("no 2D viewer in this task's context - open the series to draw on first")
        return add_roi(self.connection, kind, viewer=self.viewer, **shape)

    def close(self, *, keep_connection: bool = False) -> None:
        """Undo what was opened for the run (its :attr:`cleanups`), then close the connection (unless
        ``keep_connection``: a batch worker reuses it for the next item)."""
        while self.cleanups:
            with contextlib.suppress(Exception):  # closing is best effort: the run's own result stands
                self.cleanups.pop()()
        if self.connection is not None and not keep_connection:
            self.connection.close()

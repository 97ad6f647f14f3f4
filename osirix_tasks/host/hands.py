"""The user's side of the embedded OsiriX: what a click does that the OsiriXgrpc protocol cannot.

The protocol reads the browser selection but cannot set it, and reads the selected ROIs but cannot
select one; a user does those by clicking in OsiriX. For the embedded host the page does them in
the host process (its control requests and its state). A real OsiriX has its own windows for that,
so these actions are refused, saying where to do them instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import OsirixTasksError
from .control_protocol import Select

if TYPE_CHECKING:
    from ..emulator.database.import_queue import ImportJob
    from .process import Host

__all__ = ["HostSide"]


class HostSide:
    """Selection and window order in the embedded host (when the page shows it)."""

    def __init__(self, host: Host | None, target: Callable[[], str]):
        self.host = host
        self.target = target

    def _own(self, what: str) -> Host:
        host = self.host
        if host is None or self._target_port() not in host.ports():
            raise OsirixTasksError(
                f"{what} is done in OsiriX's own window when the page shows another OsiriX - do it there"
            )
        return host

    def _target_port(self) -> int:
        try:
            return int(self.target().rsplit(":", 1)[1])
        except (OsirixTasksError, ValueError, IndexError):
            return -1

    @property
    def available(self) -> bool:
        """Whether the page shows this host (so selection and window order can be set)."""
        return self.host is not None and self._target_port() in self.host.ports()

    def select(self, studies: list[str], series: list[str]) -> str:
        """Set the database browser's selection by StudyInstanceUID / SeriesInstanceUID."""
        reply = self._own("Selecting in the database").request(Select(studies=studies, series=series))
        if not reply.ok:
            raise OsirixTasksError(reply.message)
        return reply.message

    def _object(self, host: Host, uid: str, kind: str) -> Any:
        entry = host.state.cache.lookup(uid)
        if entry is None or entry[0] != kind:
            raise OsirixTasksError(f"no {kind} {uid} in this OsiriX (it was closed or deleted) - reload the view")
        return entry[1]

    def select_rois(self, viewer_uid: str, uids: list[str]) -> None:
        """Select exactly these ROIs of a viewer (the others are deselected), as clicking them does."""
        host = self._own("Selecting ROIs")
        viewer = self._object(host, viewer_uid, "ViewerController")
        wanted = {id(self._object(host, uid, "ROI")) for uid in uids}
        with host.state.lock:
            for roi in viewer.all_rois():
                roi.selected = id(roi) in wanted

    def text_anchor(self, roi_uid: str) -> list[float] | None:
        """Where a text ROI sits (its rect's origin). OsiriX's ``-points`` of a text ROI is empty, so the
        protocol cannot tell; the embedded host can. None for another OsiriX or another kind of ROI."""
        if not self.available:
            return None
        assert self.host is not None
        roi = self._object(self.host, roi_uid, "ROI")
        return [float(roi.rect[0]), float(roi.rect[1])] if roi.rect is not None else None

    def bring_to_front(self, uid: str, kind: str) -> None:
        """Make a 2D viewer (``ViewerController``) or 3D window (``VRController``) the frontmost one,
        as clicking its window does; silently nothing for another OsiriX (its user clicks there)."""
        if not self.available:
            return
        assert self.host is not None
        obj = self._object(self.host, uid, kind)
        self.host.state.viewers.bring_to_front(obj)

    def import_files(self, paths: list[str]) -> ImportJob:
        """Import files and folders in the background, as CopyFilesIfNeeded does, and return the job,
        whose summary says what was imported and what was skipped and why (the protocol cannot)."""
        from ..emulator.database.import_queue import ImportQueueFull

        host = self._own("Following an import")
        try:
            return host.state.import_in_background(paths)
        except ImportQueueFull as exc:
            raise OsirixTasksError(str(exc)) from None

"""An embedded OsiriX for a test session, and what a user does in it: open, draw, select, reset.

:class:`OsirixSession` is what the ``osirix`` fixture gives a test. It wraps a running host
(:func:`osirix_tasks.testing.running_host`): gRPC calls go through a :class:`~osirix_tasks.client.Connection`,
the user's side (opening a series, selecting ROIs, the reset) through the host's control channel.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OsirixTasksError
from ..host.control import HostInfo, ask, live_hosts
from ..host.control_protocol import DeselectRois, Open, Reset, Select, SelectRois
from .environment import isolated_env, run_cli
from .hosts import RunningHost, running_host

if TYPE_CHECKING:
    import numpy as np

    from ..client import Connection
    from ..client.db_listing import SeriesInfo, StudyInfo
    from ..client.roi_listing import RoiInfo

__all__ = ["OsirixSession", "osirix_session", "DEFAULT_ROI_NAME"]

#: The name of the ROI the ``osirix_roi`` fixture draws.
DEFAULT_ROI_NAME = "osirix-tasks ROI"


class OsirixSession:
    """A running embedded OsiriX and the user's hands on it."""

    def __init__(self, host: RunningHost, info: HostInfo):
        self.host = host
        self.info = info
        self._connection: Connection | None = None
        #: Seconds the last :meth:`reset` took (round trip included).
        self.last_reset_seconds: float | None = None

    # --- where it is -----------------------------------------------------------------------

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``: give it to tasks, pyosirix, ``--server``."""
        return self.host.address

    @property
    def port(self) -> int:
        """Its gRPC port."""
        return self.host.ports[0]

    @property
    def home(self) -> Path:
        """Its home folder (where its ``server_configs.json`` is, so pyosirix finds it from there)."""
        return self.host.home

    def env(self, **extra: str) -> dict[str, str]:
        """An environment in which osirix-tasks and unmodified pyosirix scripts find this OsiriX."""
        return isolated_env(self.home, **extra)

    # --- gRPC ------------------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        """A connection to it (made on first use)."""
        if self._connection is None:
            from ..client import Connection

            self._connection = Connection(self.address)
        return self._connection

    @property
    def stub(self) -> Any:
        """The plain ``osirixgrpc`` OsiriXServiceStub."""
        return self.connection.stub

    def call(self, rpc: str, request: Any) -> Any:
        """Call an RPC by name; a status-0 answer raises :class:`~osirix_tasks.OsirixTasksError`."""
        return self.connection.call(rpc, request)

    def pixels(self, pix: Any) -> np.ndarray:
        """A DCMPix's pixels: float32 (rows, columns), or ARGB uint8 (rows, columns, 4)."""
        return self.connection.pixels(pix)

    # --- the database ------------------------------------------------------------------------

    def studies(self) -> list[StudyInfo]:
        """Every study, in the browser's order."""
        from ..client.db_listing import list_studies

        return list_studies(self.connection)

    def series(self, study_uid: str | None = None) -> list[SeriesInfo]:
        """The series of one study (StudyInstanceUID) or of all studies."""
        from ..client.db_listing import list_series

        return list_series(self.connection, study_uid)

    def select(self, studies: Sequence[str] = (), series: Sequence[str] = ()) -> None:
        """Set the browser selection (StudyInstanceUIDs, SeriesInstanceUIDs); nothing: select nothing."""
        ask(self.info, Select(studies=list(studies), series=list(series)))

    # --- viewers, ROIs, 3D windows -------------------------------------------------------------

    def open_viewer(self, series_uid: str | None = None, *, frames: int = 1, slice: int | None = None) -> Any:
        """Open a 2D viewer (it becomes frontmost) on a series (default: the first series with images)
        and show ``slice`` (default: the middle one). Returns its ViewerController reference."""
        from osirixgrpc import utilities_pb2, viewercontroller_pb2

        if series_uid is None:
            with_images = [s for s in self.series() if s.images > 0]
            if not with_images:
                raise OsirixTasksError(f"the embedded OsiriX at {self.address} has no series with images to open")
            series_uid = with_images[0].series_instance_uid
        ask(self.info, Open(series=series_uid, frames=frames))
        viewer = self.call("OsirixFrontmostViewer", utilities_pb2.Empty()).viewer_controller
        count = len(
            self.call(
                "ViewerControllerPixList",
                viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0),
            ).pix
        )
        index = count // 2 if slice is None else slice
        self.call(
            "ViewerControllerSetIdx",
            viewercontroller_pb2.ViewerControllerSetIdxRequest(viewer_controller=viewer, idx=index),
        )
        return viewer

    def draw_roi(
        self,
        kind: str = "oval",
        *,
        name: str = DEFAULT_ROI_NAME,
        box: Sequence[float] | None = None,
        points: Sequence[Sequence[float]] = (),
        mask: Any = None,
        slice: int | None = None,
        select: bool = False,
        viewer: Any = None,
    ) -> Any:
        """Draw an ROI (``oval``, ``rectangle``, ``polygon``, ``point``, ``mask``) on a viewer's displayed
        slice (the frontmost viewer by default; see :func:`osirix_tasks.client.viewer_tools.add_roi`) and
        return its reference. An oval, rectangle or mask without ``box`` covers the middle half of the
        image. With ``select``, the frontmost viewer's ROIs of that name become the selection."""
        from osirixgrpc import utilities_pb2

        from ..client.viewer_tools import add_roi

        if box is None and kind in ("oval", "rectangle", "mask") and mask is None:
            if viewer is None:
                viewer = self.call("OsirixFrontmostViewer", utilities_pb2.Empty()).viewer_controller
            pix = self.call("ViewerControllerCurDCM", viewer).pix
            shape = self.call("DCMPixShape", pix)
            box = (shape.columns / 4, shape.rows / 4, shape.columns / 2, shape.rows / 2)
        roi = add_roi(self.connection, kind, name=name, box=box, points=points, mask=mask, slice=slice, viewer=viewer)
        if select:
            self.select_rois(name, slice=slice)
        return roi

    def rois(self) -> list[RoiInfo]:
        """The frontmost viewer's ROIs (current frame), slice by slice."""
        from ..client.roi_listing import list_rois

        return list_rois(self.connection)

    def select_rois(self, name: str, *, slice: int | None = None) -> None:
        """Select the frontmost viewer's ROIs named ``name`` on the displayed slice, or on ``slice`` (which
        is then shown: OsiriX selects on the displayed slice only); the others are deselected."""
        ask(self.info, SelectRois(name=name, slice=slice))

    def deselect_rois(self) -> None:
        """Deselect every ROI of the frontmost viewer."""
        ask(self.info, DeselectRois())

    def open_3d(self, mode: str = "VR", viewer: Any = None) -> Any:
        """Open a 3D window (``VR`` or ``MIP``) on a viewer (the frontmost by default); its reference."""
        from ..client.viewer_tools import open_3d

        return open_3d(self.connection, mode, viewer)

    # --- state ---------------------------------------------------------------------------------

    def reset(self) -> dict[str, Any]:
        """Back to the state after loading (viewers, 3D windows and ROIs gone, their uids forgotten,
        the selection as loaded), without a restart. Returns what was closed."""
        started = time.perf_counter()
        reply = ask(self.info, Reset())
        self.last_reset_seconds = time.perf_counter() - started
        return reply.data

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``osirix-tasks ARGS`` where it finds this OsiriX (its home); nothing is added to ARGS."""
        return run_cli(*args, env=self.env(), timeout=timeout)

    def close(self) -> None:
        """Close the connection (the host is stopped by whoever started it)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@contextmanager
def osirix_session(home: Path, data: Path | None = None) -> Iterator[OsirixSession]:
    """Start an embedded OsiriX in ``home`` on the demo series, or on the DICOM files under ``data``
    (a fresh database either way); stopped afterwards."""
    if data is not None and not data.exists():
        raise OsirixTasksError(f"--osirix-data {data}: no such file or folder - give a DICOM file or folder")
    args = ["--empty", "--import", str(data)] if data is not None else ["--empty", "--demo"]
    with running_host(home, *args) as host:
        info = host.spawned.info or next((h for h in live_hosts(host.env()) if h.pid == host.process.pid), None)
        if info is None:
            raise OsirixTasksError(f"the embedded OsiriX (pid {host.process.pid}) did not publish its control channel")
        session = OsirixSession(host, info)
        try:
            yield session
        finally:
            session.close()

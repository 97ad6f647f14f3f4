"""An OsiriX host process: gRPC servers on 127.0.0.1 ports sharing one OsiriX state.

Each server has its own thread pool; all serve the same :class:`OsirixState`. Servers are
started and stopped while the host runs (by the CLI, through the control channel), and
``server_configs.json`` is kept truthful: a port is marked active while it is served and
inactive when it stops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

from .._support.limits import raise_open_files_limit
from ..client.server_configs import update_servers
from ..emulator.database.conventions import sorted_images
from ..emulator.database.importer import import_paths
from ..emulator.reset import baseline_of, reset_state
from ..emulator.rpc.servicer import build_handler
from ..emulator.state import OsirixState
from ..emulator.workspace import open_viewer
from ..errors import OsirixTasksError, PortUnavailable
from ..model import ServerSpec
from ..wire.options import CHANNEL_OPTIONS
from .control import HostInfo, hosts_folder, new_authkey, publish, who_holds_port
from .control_listener import ControlListener
from .control_protocol import (
    Answer,
    CancelRun,
    DeselectRois,
    Import,
    Open,
    Reply,
    Request,
    Reset,
    Select,
    SelectRois,
    Shutdown,
    StartRun,
    StartServer,
    Status,
    StopServer,
)
from .runs import HostRuns

__all__ = ["Host", "PortUnavailable", "LOCALHOST"]

log = logging.getLogger(__name__)
LOCALHOST = "127.0.0.1"
WORKERS_PER_SERVER = 8


def _check_port_free(port: int) -> None:
    if not 1 <= port <= 65535:
        raise PortUnavailable(f"port {port} is not a TCP port - use 1 to 65535")
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((LOCALHOST, port))
    except OSError as exc:
        holder = who_holds_port(port)
        who = f"held by {holder}" if holder else f"not available ({exc.strerror})"
        raise PortUnavailable(
            f"port {port} on {LOCALHOST} is {who} - stop that process or choose another port"
        ) from None
    finally:
        probe.close()


def _set_active(port: int, active: bool) -> None:
    def change(servers: list[ServerSpec]) -> list[ServerSpec]:
        for server in servers:
            if server.port == port:
                server.active = active
                return servers
        if active:
            servers.append(ServerSpec(port=port, active=True))
        return servers

    try:
        update_servers(change)
    except Exception as exc:  # a broken file must not stop the servers; say so
        log.warning(
            "could not record port %d as %s in server_configs.json: %s", port, "active" if active else "inactive", exc
        )


class Host:
    """The running OsiriX: its state, its gRPC servers and its control channel."""

    def __init__(self, state: OsirixState):
        raise_open_files_limit()  # every gRPC and web connection holds a descriptor
        self.state = state
        self.handler = build_handler(state)
        self.servers: dict[int, grpc.Server] = {}
        self.lock = threading.RLock()
        self.stopped = threading.Event()
        self._listener: ControlListener | None = None
        self.info: HostInfo | None = None
        self.baseline = baseline_of(state)  # what a Reset returns to: the state after loading
        #: The web UI's port and URL (with its token) when the host serves one; in the Status reply.
        self.web: dict[str, Any] | None = None
        self.runs = HostRuns()
        self._handlers: dict[type, Callable[[Any], Answer]] = {
            Status: self._status,
            StartServer: self._start,
            StopServer: self._stop,
            Select: self._select,
            Open: self._open,
            SelectRois: self._select_rois,
            DeselectRois: self._deselect_rois,
            Reset: self._reset,
            Import: self._import,
            Shutdown: self._shutdown,
            StartRun: self.runs.start,
            CancelRun: self.runs.cancel,
        }

    # --- servers -------------------------------------------------------------------------

    def start_server(self, port: int) -> None:
        """Serve OsiriXService on 127.0.0.1:port (raises PortUnavailable with the reason)."""
        with self.lock:
            if port in self.servers:
                raise PortUnavailable(f"port {port} is already served by this host")
            _check_port_free(port)
            server = grpc.server(
                ThreadPoolExecutor(max_workers=WORKERS_PER_SERVER, thread_name_prefix=f"osirix-{port}"),
                handlers=[self.handler],
                options=[*CHANNEL_OPTIONS, ("grpc.so_reuseport", 0)],
            )
            try:
                bound = server.add_insecure_port(f"{LOCALHOST}:{port}")
            except RuntimeError as exc:
                raise PortUnavailable(f"port {port} could not be bound: {exc}") from None
            if bound != port:
                raise PortUnavailable(f"port {port} could not be bound")
            server.start()
            self.servers[port] = server
        _set_active(port, True)
        self._republish()
        log.info("serving on %s:%d", LOCALHOST, port)

    def stop_server(self, port: int) -> None:
        """Stop serving a port and mark it inactive."""
        with self.lock:
            server = self.servers.pop(port, None)
        if server is None:
            raise PortUnavailable(f"port {port} is not served by this host")
        server.stop(grace=1).wait()
        _set_active(port, False)
        self._republish()

    def ports(self) -> list[int]:
        """The ports served now."""
        with self.lock:
            return sorted(self.servers)

    def _republish(self) -> None:
        """Keep the host file true: its ports, its web page."""
        with self.lock:
            if self.info is None:
                return
            web_url = self.web.get("url") if self.web else None
            self.info = dataclasses.replace(self.info, ports=tuple(sorted(self.servers)), web_url=web_url)
            publish(self.info)

    def set_web(self, web: dict[str, Any] | None) -> None:
        """Record the web UI this host serves (port, URL with its token), for Status and the host file."""
        self.web = web
        self._republish()

    def shutdown(self) -> None:
        """Stop every run and server, mark the servers inactive, close the control channel."""
        self.runs.stop_all()
        for port in self.ports():
            with contextlib.suppress(PortUnavailable):
                self.stop_server(port)
        if self._listener is not None:
            self._listener.close()
        if self.info is not None:
            self.info.path.unlink(missing_ok=True)
        self.state.db.close()
        self.stopped.set()

    # --- control channel -------------------------------------------------------------------

    def open_control_channel(self) -> HostInfo:
        """Listen for control requests on 127.0.0.1 and publish how to reach us."""
        authkey = new_authkey()
        self._listener = ControlListener(bytes.fromhex(authkey), self.dispatch)
        self.info = HostInfo(
            os.getpid(),
            self._listener.address,
            authkey,
            str(self.state.db.folder),
            hosts_folder() / f"{os.getpid()}.json",
            tuple(self.ports()),
        )
        publish(self.info)
        self._listener.start()
        self.runs.prime()
        return self.info

    def request(self, request: Request) -> Reply:
        """Carry out a one-reply request in this process (the web UI's way to the host)."""
        answer = self.dispatch(request)
        if not isinstance(answer, Reply):
            answer.close()
            return Reply(ok=False, message=f"{request.op!r} streams its answer: use the control channel")
        return answer

    def dispatch(self, request: Request) -> Answer:
        """Carry out one control request; never raises (errors become a refusing reply)."""
        handler = self._handlers.get(type(request))
        if handler is None:
            return Reply(ok=False, message=f"this host does not handle {request.op!r} requests")
        try:
            return handler(request)
        except OsirixTasksError as exc:
            return Reply(ok=False, message=str(exc))
        except Exception as exc:  # a bug must not take the host down; the client hears of it
            log.exception("control request %r failed", request)
            return Reply(ok=False, message=f"internal error while handling {request.op!r}: {type(exc).__name__}: {exc}")

    def _status(self, request: Status) -> Reply:
        studies, series, images = self.state.db.counts()
        return Reply(
            ok=True,
            message=f"serving {self.ports()}",
            data={
                "pid": os.getpid(),
                "ports": self.ports(),
                "database": str(self.state.db.folder),
                "counts": {"studies": studies, "series": series, "images": images},
                "web": self.web,
            },
        )

    def _start(self, request: StartServer) -> Reply:
        self.start_server(request.port)
        return Reply(ok=True, message=f"serving on {LOCALHOST}:{request.port}")

    def _stop(self, request: StopServer) -> Reply:
        self.stop_server(request.port)
        return Reply(ok=True, message=f"stopped {LOCALHOST}:{request.port}")

    def _import(self, request: Import) -> Reply:
        summary = import_paths(self.state.db, request.paths, copy=request.copy_files)
        return Reply(ok=True, message=str(summary))

    def _shutdown(self, request: Shutdown) -> Reply:
        threading.Thread(target=self.shutdown, daemon=True).start()
        return Reply(ok=True, message="shutting down")

    def _open(self, request: Open) -> Reply:
        """Open a viewer on a series, as a double-click in the browser does (frames: a 4D copy)."""
        db = self.state.db
        rows = db.find_series(request.series)
        if not rows:
            return Reply(ok=False, message=f"no series with SeriesInstanceUID {request.series} in the database")
        ids = [i.id for i in sorted_images(db.images_of(rows[0].id))]
        viewer = self.state.viewers.add(open_viewer(db, [ids] * request.frames))
        return Reply(
            ok=True, message=f"opened a viewer of {len(ids)} slice(s) x {request.frames} frame(s): {viewer.title()}"
        )

    def _select_rois(self, request: SelectRois) -> Reply:
        """Select the frontmost viewer's ROIs named ``name``; the others are deselected, unless none has it."""
        viewer = self.state.viewers.frontmost()
        if viewer is None:
            return Reply(ok=False, message="no viewer is open - open one first ('osirix-tasks open SERIES_UID')")
        with self.state.lock:
            rois = viewer.all_rois()
            chosen = sum(roi.name == request.name for roi in rois)
            if not chosen:
                names = sorted({roi.name for roi in rois})
                known = f" (its ROIs: {', '.join(repr(n) for n in names)})" if names else " (it has no ROIs)"
                return Reply(
                    ok=False,
                    message=f"no ROI named {request.name!r} in the frontmost viewer{known}; the selection is unchanged",
                )
            for roi in rois:
                roi.selected = roi.name == request.name
        return Reply(ok=True, message=f"selected {chosen} ROI(s) named {request.name!r}")

    def _deselect_rois(self, request: DeselectRois) -> Reply:
        """Deselect every ROI of the frontmost viewer."""
        viewer = self.state.viewers.frontmost()
        if viewer is None:
            return Reply(ok=False, message="no viewer is open - open one first ('osirix-tasks open SERIES_UID')")
        with self.state.lock:
            selected = [roi for roi in viewer.all_rois() if roi.selected]
            for roi in selected:
                roi.selected = False
        return Reply(ok=True, message=f"deselected {len(selected)} ROI(s)")

    def _reset(self, request: Reset) -> Reply:
        """Close every viewer and 3D window and restore the selection after loading."""
        summary = reset_state(self.state, self.baseline)
        return Reply(
            ok=True,
            message=f"closed {summary.viewers} viewer(s) and {summary.vr_controllers} 3D window(s), "
            f"deleted {summary.rois} ROI(s); selection as after loading",
            data=summary.to_json(),
        )

    def _select(self, request: Select) -> Reply:
        db = self.state.db
        studies: list[int] = []
        series: list[int] = []
        for uid in request.studies:
            row = db.find_study(uid)
            if row is None:
                return Reply(ok=False, message=f"no study with StudyInstanceUID {uid} in the database")
            studies.append(row.id)
        for uid in request.series:
            rows = db.find_series(uid)
            if not rows:
                return Reply(ok=False, message=f"no series with SeriesInstanceUID {uid} in the database")
            series.extend(r.id for r in rows)
        self.state.select(studies, series)
        return Reply(ok=True, message=f"selected {len(studies)} study(ies) and {len(series)} series")


def database_folder(explicit: str | None, data_dir: Path) -> Path:
    """``--database`` or the per-user default."""
    return Path(explicit).expanduser().absolute() if explicit else data_dir / "database"

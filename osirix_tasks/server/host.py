"""An OsiriX host process: gRPC servers on 127.0.0.1 ports sharing one OsiriX state.

Each server has its own thread pool; all serve the same :class:`OsirixState`. Servers are
started and stopped while the host runs (by the CLI, through the control channel), and
``server_configs.json`` is kept truthful: a port is marked active while it is served and
inactive when it stops.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

import grpc

from ..model import ServerSpec
from ..server_configs import update_servers
from .control import HostInfo, hosts_folder, new_authkey, publish, who_holds_port
from .conventions import sorted_images
from .importer import import_paths
from .servicer import MAX_MESSAGE_BYTES, build_handler
from .state import OsirixState
from .workspace import open_viewer

__all__ = ["Host", "PortUnavailable", "LOCALHOST"]

log = logging.getLogger(__name__)
LOCALHOST = "127.0.0.1"
WORKERS_PER_SERVER = 8


class PortUnavailable(RuntimeError):
    """The port cannot be served; the message says who holds it or why."""


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
        log.warning("could not record port %d as %s in server_configs.json: %s",
                    port, "active" if active else "inactive", exc)


class Host:
    """The running OsiriX: its state, its gRPC servers and its control channel."""

    def __init__(self, state: OsirixState):
        self.state = state
        self.handler = build_handler(state)
        self.servers: dict[int, grpc.Server] = {}
        self.lock = threading.RLock()
        self.stopped = threading.Event()
        self._listener: Listener | None = None
        self.info: HostInfo | None = None

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
                options=[
                    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.so_reuseport", 0),
                ],
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
        log.info("serving on %s:%d", LOCALHOST, port)

    def stop_server(self, port: int) -> None:
        """Stop serving a port and mark it inactive."""
        with self.lock:
            server = self.servers.pop(port, None)
        if server is None:
            raise PortUnavailable(f"port {port} is not served by this host")
        server.stop(grace=1).wait()
        _set_active(port, False)

    def ports(self) -> list[int]:
        """The ports served now."""
        with self.lock:
            return sorted(self.servers)

    def shutdown(self) -> None:
        """Stop every server, mark them inactive, close the control channel."""
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
        """Listen for CLI commands on 127.0.0.1 and publish how to reach us."""
        authkey = new_authkey()
        self._listener = Listener((LOCALHOST, 0), authkey=bytes.fromhex(authkey))
        address = self._listener.address
        self.info = HostInfo(os.getpid(), (address[0], int(address[1])), authkey,
                             str(self.state.db.folder), hosts_folder() / f"{os.getpid()}.json")
        publish(self.info)
        threading.Thread(target=self._accept_loop, name="osirix-control", daemon=True).start()
        return self.info

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self.stopped.is_set():
            try:
                connection = self._listener.accept()
            except (OSError, EOFError):
                if self.stopped.is_set():
                    return
                continue
            except Exception:  # a client with the wrong key: AuthenticationError
                log.warning("refused a control connection that failed authentication")
                continue
            threading.Thread(target=self._serve_connection, args=(connection,), daemon=True).start()

    def _serve_connection(self, connection: Connection) -> None:
        with connection:
            try:
                command = connection.recv()
                connection.send(self.handle(command))
            except (OSError, EOFError):
                pass

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        """Carry out one control command; never raises."""
        op = command.get("op") if isinstance(command, dict) else None
        try:
            if op == "status":
                studies, series, images = self.state.db.counts()
                return {"ok": True, "pid": os.getpid(), "ports": self.ports(),
                        "database": str(self.state.db.folder),
                        "counts": {"studies": studies, "series": series, "images": images}}
            if op == "start":
                self.start_server(int(command["port"]))
                return {"ok": True, "message": f"serving on {LOCALHOST}:{command['port']}"}
            if op == "stop":
                self.stop_server(int(command["port"]))
                return {"ok": True, "message": f"stopped {LOCALHOST}:{command['port']}"}
            if op == "select":
                return self._select(command)
            if op == "open":
                return self._open(command)
            if op == "select_rois":
                return self._select_rois(command)
            if op == "import":
                summary = import_paths(self.state.db, command["paths"], copy=bool(command.get("copy", True)))
                return {"ok": True, "message": str(summary)}
            if op == "shutdown":
                threading.Thread(target=self.shutdown, daemon=True).start()
                return {"ok": True, "message": "shutting down"}
        except (PortUnavailable, FileNotFoundError, KeyError, ValueError) as exc:
            return {"ok": False, "message": str(exc)}
        return {"ok": False, "message": f"unknown command {op!r}"}

    def _open(self, command: dict[str, Any]) -> dict[str, Any]:
        """Open a viewer on a series, as a double-click in the browser does (frames: a 4D copy)."""
        db = self.state.db
        rows = db.find_series(command["series"])
        if not rows:
            return {"ok": False, "message": f"no series with SeriesInstanceUID {command['series']} in the database"}
        ids = [i.id for i in sorted_images(db.images_of(rows[0].id))]
        frames = max(1, int(command.get("frames", 1)))
        viewer = self.state.viewers.add(open_viewer(db, [ids] * frames))
        return {"ok": True, "message": f"opened a viewer of {len(ids)} slice(s) x {frames} frame(s): {viewer.title()}"}

    def _select_rois(self, command: dict[str, Any]) -> dict[str, Any]:
        """Select the frontmost viewer's ROIs named ``name`` (all others are deselected)."""
        viewer = self.state.viewers.frontmost()
        if viewer is None:
            return {"ok": False, "message": "no viewer is open - open one first ('osirix-tasks open SERIES_UID')"}
        with self.state.lock:
            chosen = 0
            for roi in viewer.all_rois():
                roi.selected = roi.name == command["name"]
                chosen += roi.selected
        if not chosen:
            return {"ok": False, "message": f"no ROI named {command['name']!r} in the frontmost viewer"}
        return {"ok": True, "message": f"selected {chosen} ROI(s) named {command['name']!r}"}

    def _select(self, command: dict[str, Any]) -> dict[str, Any]:
        db = self.state.db
        studies: list[int] = []
        series: list[int] = []
        for uid in command.get("studies", []):
            row = db.find_study(uid)
            if row is None:
                return {"ok": False, "message": f"no study with StudyInstanceUID {uid} in the database"}
            studies.append(row.id)
        for uid in command.get("series", []):
            rows = db.find_series(uid)
            if not rows:
                return {"ok": False, "message": f"no series with SeriesInstanceUID {uid} in the database"}
            series.extend(r.id for r in rows)
        self.state.select(studies, series)
        return {"ok": True, "message": f"selected {len(studies)} study(ies) and {len(series)} series"}


def database_folder(explicit: str | None, data_dir: Path) -> Path:
    """``--database`` or the per-user default."""
    return Path(explicit).expanduser().absolute() if explicit else data_dir / "database"

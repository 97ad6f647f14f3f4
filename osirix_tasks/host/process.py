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
from typing import Any, Protocol

import grpc

from .._support.limits import raise_open_files_limit
from ..client.server_configs import update_servers
from ..emulator.database.importer import import_paths
from ..emulator.reset import baseline_of, reset_state
from ..emulator.rpc.servicer import build_handler
from ..emulator.state import OsirixState
from ..errors import OsirixTasksError, PortUnavailable
from ..model import ServerSpec
from ..wire.options import CHANNEL_OPTIONS
from .control import HostInfo, hosts_folder, new_authkey, publish, who_holds_port
from .control_listener import ControlListener
from .control_protocol import (
    Answer,
    CancelRun,
    Import,
    Reply,
    Request,
    Reset,
    Shutdown,
    StartRun,
    StartServer,
    Status,
    StopServer,
    WhatChanged,
)
from .hands import Hands
from .runs import HostRuns
from .watch import what_changed


class ServedPage(Protocol):
    """The page a host serves (:class:`osirix_tasks.web.WebServer`): what the host needs of it."""

    def info(self) -> dict[str, Any]:
        """Its port and URL (with its token)."""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving it."""


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
        self._web_server: ServedPage | None = None
        self.runs = HostRuns()
        self.hands = Hands(state)
        self._handlers: dict[type, Callable[[Any], Answer]] = {
            Status: self._status,
            StartServer: self._start,
            StopServer: self._stop,
            Reset: self._reset,
            Import: self._import,
            Shutdown: self._shutdown,
            StartRun: self.runs.start,
            CancelRun: self.runs.cancel,
            WhatChanged: lambda request: what_changed(self.state, request),
            **self.hands.handlers(),
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

    def attach_web(self, server: ServedPage) -> None:
        """Serve the page ``server`` with this host: its port and URL (with its token) go in the Status
        reply and the host file; it stops when the host does."""
        self._web_server = server
        self.web = server.info()
        self._republish()

    def shutdown(self) -> None:
        """Stop the page, every run and server, mark the servers inactive, close the control channel."""
        if self._web_server is not None:
            self._web_server.stop()
            self._web_server = None
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
        self.state.changes.touch_state("browser")
        return Reply(ok=True, message=str(summary))

    def _shutdown(self, request: Shutdown) -> Reply:
        threading.Thread(target=self.shutdown, daemon=True).start()
        return Reply(ok=True, message="shutting down")

    def _reset(self, request: Reset) -> Reply:
        """Close every viewer and 3D window and restore the selection after loading."""
        summary = reset_state(self.state, self.baseline)
        self.state.changes.touch_state("windows")
        return Reply(
            ok=True,
            message=f"closed {summary.viewers} viewer(s) and {summary.vr_controllers} 3D window(s), "
            f"deleted {summary.rois} ROI(s); selection as after loading",
            data=summary.to_json(),
        )

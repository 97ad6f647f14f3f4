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
from typing import TYPE_CHECKING, Any, Protocol

import grpc

from .._support.limits import raise_open_files_limit
from .._support.paths import registry_path
from ..client.server_configs import update_servers
from ..contract import Target
from ..emulator.database.importer import import_paths
from ..emulator.reset import baseline_of, reset_state
from ..emulator.rpc.servicer import build_handler
from ..emulator.state import OsirixState
from ..errors import OsirixTasksError, PortUnavailable
from ..model import DicomSettings, ServerSpec, TriggerSpec
from ..run.start import TaskRequest
from ..wire.options import CHANNEL_OPTIONS
from .control import HostInfo, hosts_folder, new_authkey, publish, runtime_folder, who_holds_port
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
from .peer_check import PeerCheck, checks_peers
from .runs import HostRuns
from .watch import what_changed

if TYPE_CHECKING:
    from ..dicomnode.node import DicomNode


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
    """Refuse a port another process listens on (naming it). SO_REUSEADDR, as the gRPC server itself
    binds: connections of a killed host lingering in TIME_WAIT do not hold the port, a listener does."""
    if not 1 <= port <= 65535:
        raise PortUnavailable(f"port {port} is not a TCP port - use 1 to 65535")
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((LOCALHOST, port))
    except OSError as exc:
        holder = who_holds_port(port)
        who = f"held by {holder}" if holder else f"not available ({exc.strerror})"
        raise PortUnavailable(
            f"port {port} on {LOCALHOST} is {who} - stop that process or choose another port"
        ) from None
    finally:
        probe.close()


def _set_active(port: int, active: bool) -> bool:
    """Mark ``port`` (in)active in server_configs.json; returns whether its entry had to be added."""
    added = []

    def change(servers: list[ServerSpec]) -> list[ServerSpec]:
        for server in servers:
            if server.port == port:
                server.active = active
                return servers
        if active:
            servers.append(ServerSpec(port=port, active=True))
            added.append(port)
        return servers

    try:
        update_servers(change)
    except Exception as exc:  # a broken file must not stop the servers; say so
        log.warning(
            "could not record port %d as %s in server_configs.json: %s", port, "active" if active else "inactive", exc
        )
    return bool(added)


def _forget(ports: set[int]) -> None:
    """Remove the entries of ``ports`` from server_configs.json (the others stay as they are)."""
    try:
        update_servers(lambda servers: [s for s in servers if s.port not in ports])
    except Exception as exc:  # noqa: BLE001 - stopping anyway; say so
        log.warning("could not remove ports %s from server_configs.json: %s", sorted(ports), exc)


class Host:
    """The running OsiriX: its state, its gRPC servers and its control channel."""

    def __init__(
        self,
        state: OsirixState,
        *,
        temporary_ports: bool = False,
        registry: Path | None = None,
        allow_other_users: bool = False,
    ):
        raise_open_files_limit()  # every gRPC and web connection holds a descriptor
        self.state = state
        #: The tasks.toml this host offers (its page, its status); runs the CLI asks for name their own.
        self.registry = Path(registry).absolute() if registry else registry_path(None)
        #: Remove the server_configs.json entries this host added when it stops (``serve --temporary``).
        self.temporary_ports = temporary_ports
        self._added_ports: set[int] = set()
        #: Serve other users' processes too (else refused where the system tells: :mod:`.peer_check`).
        self.allow_other_users = allow_other_users
        self.handler = build_handler(state)
        self.servers: dict[int, grpc.Server] = {}
        self.lock = threading.RLock()
        self.stopped = threading.Event()
        self._listener: ControlListener | None = None
        self.info: HostInfo | None = None
        self.baseline = baseline_of(state)  # what a Reset returns to: the state after loading
        state.roi_store.warm_up()
        #: The web UI's port and URL (with its token) when the host serves one; in the Status reply.
        self.web: dict[str, Any] | None = None
        self._web_server: ServedPage | None = None
        self.runs = HostRuns()
        self.hands = Hands(state)
        #: The DICOM node, when this host listens as one (:meth:`start_dicom`).
        self.dicom: DicomNode | None = None
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
            checked = not self.allow_other_users and checks_peers()
            server = grpc.server(
                ThreadPoolExecutor(max_workers=WORKERS_PER_SERVER, thread_name_prefix=f"osirix-{port}"),
                handlers=[self.handler],
                interceptors=[PeerCheck(port)] if checked else None,
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
        if _set_active(port, True):
            self._added_ports.add(port)
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

    def start_dicom(self, settings: DicomSettings, port: int, triggers: list[TriggerSpec]) -> int:
        """Listen as a DICOM node on ``settings.address:port`` (0: a free port); returns the port.

        What it receives is indexed into this host's database (the page hears of it through the
        ``browser`` change counter); its triggers start runs of this host's registry through the run
        service (:meth:`HostRuns.start_on_target`), against this host's first gRPC port.
        """
        from ..dicomnode.node import DicomNode

        self._check_triggers(triggers)
        node = DicomNode(
            self.state.db,
            settings,
            triggers,
            self._start_triggered,
            on_indexed=lambda: self.state.changes.touch_state("browser"),
        )
        try:
            node.start(port)
        except BaseException:
            node.stop()
            raise
        self.dicom = node
        return node.port

    def _check_triggers(self, triggers: list[TriggerSpec]) -> None:
        """Say now, not when the first series arrives, which ``[[trigger]]`` names no task of the registry."""
        catalog = self.runs.catalogs.get(self.registry)
        for trigger in triggers:
            try:
                catalog.resolve(trigger.task, trigger.type)
            except OsirixTasksError as exc:
                log.warning("[[trigger]] %r will not run: %s", trigger.label, exc)

    def _start_triggered(self, trigger: TriggerSpec, target: Target, triggered_by: dict[str, Any]) -> str:
        """Start a trigger's run on what arrived (the node's :data:`~osirix_tasks.dicomnode.triggers.StartRun`)."""
        ports = self.ports()
        task = TaskRequest(
            name=trigger.task,
            registry=self.registry,
            type=trigger.type.value if trigger.type else None,
            args=tuple(trigger.args),
            address=f"{LOCALHOST}:{ports[0]}" if ports else None,
            timeout=trigger.timeout,
            triggered_by=triggered_by,
        )
        return self.runs.start_on_target(task, target).id

    def shutdown(self) -> None:
        """Stop the page, the DICOM node (indexing what it received), every run and server, mark the
        servers inactive, close the control channel."""
        if self._web_server is not None:
            self._web_server.stop()
            self._web_server = None
        if self.dicom is not None:
            self.dicom.stop()
        self.runs.stop_all()
        for port in self.ports():
            with contextlib.suppress(PortUnavailable):
                self.stop_server(port)
        if self.temporary_ports and self._added_ports:
            _forget(self._added_ports)
        if self._listener is not None:
            self._listener.close()
        if self.info is not None:
            self.info.path.unlink(missing_ok=True)
        self.state.roi_store.flush()  # ROIs changed in the last second reach the disk
        self.state.db.close()
        self.stopped.set()

    # --- control channel -------------------------------------------------------------------

    def open_control_channel(self) -> HostInfo:
        """Listen for control requests on a Unix socket of this user's runtime folder and publish how
        to reach us."""
        authkey = new_authkey()
        socket_path = runtime_folder() / f"host-{os.getpid()}.sock"
        self._listener = ControlListener(bytes.fromhex(authkey), self.dispatch, socket_path)
        self.info = HostInfo(
            os.getpid(),
            str(socket_path),
            authkey,
            str(self.state.db.folder),
            hosts_folder() / f"{os.getpid()}.json",
            tuple(self.ports()),
            registry=str(self.registry),
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
        from ..registry import load_registry

        studies, series, images = self.state.db.counts()
        registry = load_registry(self.registry)
        return Reply(
            ok=True,
            message=f"serving {self.ports()}",
            data={
                "pid": os.getpid(),
                "ports": self.ports(),
                "database": str(self.state.db.folder),
                "counts": {"studies": studies, "series": series, "images": images},
                "web": self.web,
                "registry": {"path": str(self.registry), "problems": [str(p) for p in registry.problems]},
                "dicom": self.dicom.info() if self.dicom is not None else None,
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
        return Reply(ok=not summary.stopped, message=str(summary))

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

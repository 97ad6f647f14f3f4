"""``run_host(config)``: the one place a host is put together.

Open (or clear) the database and load what the config asks, build the emulator's state, serve its
gRPC ports, open the control channel, listen as a DICOM node (when the config or the registry's
``[dicom]`` asks), serve the page; then run until told to stop. ``serve`` calls
it; every other way to start a host (``demo``, ``ui``, ``servers start``, the test kit, the
benchmarks) starts ``serve`` in a process of its own with the same :class:`HostConfig`.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from .._support.paths import registry_path, user_data_dir
from ..errors import DatabaseError, ServerConfigError
from .config import DEFAULT_PORT, HostConfig

if TYPE_CHECKING:
    from ..emulator.database.importer import ImportSummary
    from ..emulator.database.index import Database
    from .process import Host, ServedPage

__all__ = ["HostConfig", "StopSignals", "run_host", "wait_until_stopped", "Importer", "PageServer", "default_ports"]

log = logging.getLogger(__name__)

#: How files are imported while the host loads: ``importer(db, paths, copy, label)`` (the CLI shows a progress bar).
Importer = Callable[["Database", list[str], bool, str], "ImportSummary"]
#: How the host's page is served: ``serve_page(host, config)`` returns it listening
#: (:func:`osirix_tasks.web.serve_page`; the page is a face above the host, so the caller hands it in).
PageServer = Callable[["Host", HostConfig], "ServedPage"]


def _plain_import(db: Database, paths: list[str], copy: bool, label: str) -> ImportSummary:
    from ..emulator.database.importer import import_paths

    return import_paths(db, paths, copy=copy)


def default_ports(warn: Callable[[str], None] = log.warning) -> list[int]:
    """Every port listed in server_configs.json, else :data:`DEFAULT_PORT` (a broken file is reported)."""
    from ..client.server_configs import read_servers

    try:
        listed = [s.port for s in read_servers(check_liveness=False)]
    except ServerConfigError as exc:
        warn(f"{exc}\nserving on {DEFAULT_PORT} instead")
        return [DEFAULT_PORT]
    return listed or [DEFAULT_PORT]


def _load(config: HostConfig, importer: Importer, report: Callable[[str], None]) -> Database:
    from ..emulator.database.demo import demo_folder
    from ..emulator.database.index import Database
    from ..emulator.decode_limit import set_max_decode_bytes

    if config.max_decode_mb is not None:
        set_max_decode_bytes(int(config.max_decode_mb * 2**20))
    data_dir = user_data_dir()
    db = Database(config.database_folder())
    if config.empty:
        db.clear()
    if config.imports:
        summary = importer(db, list(config.imports), True, "Importing")
        report(f"Import: {summary}")
        if summary.stopped:
            raise DatabaseError(f"import stopped: {summary.stopped}")
    if config.loads_demo and db.counts()[0] == 0:
        report(f"Demo data: {_plain_import(db, [str(demo_folder(data_dir))], True, 'Demo data')}")
    return db


def run_host(
    config: HostConfig,
    *,
    importer: Importer = _plain_import,
    report: Callable[[str], None] = log.info,
    serve_page: PageServer | None = None,
) -> Host:
    """Assemble a host as ``config`` says and start it: returns it serving its ports, its control
    channel, its DICOM node (when asked for) and its page (``serve_page``, unless ``config.web`` is
    false or no ``serve_page`` is given); :meth:`Host.shutdown` stops all of it.

    ``importer`` imports the config's files (the CLI passes one with a progress bar); ``report``
    hears what was loaded. Raises PortUnavailable when a port (gRPC, DICOM or the page's) cannot be
    served, DicomNodeError when the registry's ``[dicom]`` or ``[[trigger]]`` tables cannot be used,
    after stopping whatever had started.
    """
    from ..emulator.state import OsirixState
    from .process import Host

    if config.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    else:  # gRPC logs a traceback for every undecodable request; the client gets the error anyway
        logging.getLogger("grpc._common").setLevel(logging.CRITICAL)
    host = Host(
        OsirixState(_load(config, importer, report), save_rois=config.save_rois),
        temporary_ports=config.temporary,
        registry=registry_path(config.registry),
        allow_other_users=config.allow_other_users,
    )
    try:
        for port in config.ports or default_ports(report):
            host.start_server(port)
        host.open_control_channel()
        _start_dicom(host, config)
        if config.web and serve_page is not None:
            host.attach_web(serve_page(host, config))
    except BaseException:
        host.shutdown()
        raise
    return host


def _start_dicom(host: Host, config: HostConfig) -> None:
    """Listen as a DICOM node when ``config.dicom_port`` or the registry's ``[dicom] port`` asks for
    one (DicomNodeError naming the registry's problems; PortUnavailable)."""
    from ..dicomnode.settings import plan_node

    plan = plan_node(host.registry, port=config.dicom_port, ae_title=config.dicom_aet, address=config.dicom_address)
    if plan is not None:
        host.start_dicom(plan.settings, plan.port, plan.triggers)


class StopSignals:
    """SIGTERM and SIGINT (Ctrl-C) noted as a request to stop, from the moment this is made.

    The handler only sets a flag: a signal handler that took a lock (``threading.Event.set``) while
    the main thread held it inside ``Event.wait`` would deadlock the host on SIGTERM.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._note)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum


def wait_until_stopped(host: Host, signals: StopSignals | None = None) -> None:
    """Serve until SIGTERM, SIGINT (Ctrl-C) or a Shutdown request, then stop the host.

    Pass the :class:`StopSignals` made before the host started, so that a signal arriving while it
    started is not lost (without it, the handlers are installed here).
    """
    signals = signals or StopSignals()
    while signals.received is None and not host.stopped.is_set():
        time.sleep(0.2)
    host.shutdown()

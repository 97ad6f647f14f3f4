"""What every route of the page shares: the host, the registry, the OsiriX it shows, the run store.

The page reads and changes OsiriX through :mod:`osirix_tasks.client` (plain OsiriXgrpc, so it shows
a real OsiriX as well) and does what only a user's hands can do (select, bring to the front)
through the host's control requests (:mod:`osirix_tasks.host.hands`), in the host's own process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._support.paths import run_store_path
from ..errors import NoServer, OsirixTasksError
from ..host.catalogs import CatalogCache
from .batch_starts import BatchStarts
from .imports import ImportWatch
from .streams import StreamLimit
from .study_files import StudyFacts
from .tickets import TicketBook
from .uploads import Uploads

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..client import Connection
    from ..host.control_protocol import Reply, Request
    from ..host.process import Host
    from ..run.store import RunStore

__all__ = ["Page"]


@dataclass
class Page:
    """The page's view of the world. ``host`` is None when the page shows a remote OsiriX only."""

    host: Host | None
    registry: Path
    #: The address chosen in Server Configuration; None: this host's own first port.
    chosen_address: str | None = None
    store_path: Path = field(default_factory=run_store_path)
    #: Single-use tickets for the event streams (see :mod:`.tickets`).
    tickets: TicketBook = field(default_factory=TicketBook)
    #: The event streams open at once, and for how long each (see :mod:`.streams`).
    streams: StreamLimit = field(default_factory=StreamLimit)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _home_port: int | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _connection: Connection | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        #: Catalogs rebuilt only when the registry, its plugins or the installed packs change (the host's own).
        self.catalogs = self.host.runs.catalogs if self.host is not None else CatalogCache()
        #: Imports started from the page and the files it uploaded for them.
        self.imports = ImportWatch(Uploads())
        #: Accession numbers and study IDs read from the studies' files (the protocol has neither).
        self.study_facts = StudyFacts()
        #: Batches started from the database window's selection (their driver processes).
        self.batch_starts = BatchStarts()

    def address(self) -> str:
        """The OsiriX the page reads and tasks act on: the chosen address, else this host's first port."""
        if self.chosen_address:
            return self.chosen_address
        if self.host is not None:
            ports = self.host.ports()
            if ports:
                if self._home_port not in ports:  # the first port seen stays the page's while it is served
                    self._home_port = ports[0]
                return f"127.0.0.1:{self._home_port}"
        raise NoServer(
            "this host serves no OsiriXgrpc port now - start one in Server Configuration, then reload the view"
        )

    def set_address(self, address: str | None) -> None:
        """Show another OsiriX (a real one, or another port); None goes back to this host's own."""
        self.chosen_address = address or None

    def connection(self) -> Connection:
        """The client connection to the OsiriX shown (reopened when the address changes)."""
        from ..client import Connection

        address = self.address()
        with self._lock:
            if self._connection is None or self._connection.address != address:
                if self._connection is not None:
                    self._connection.close()
                self._connection = Connection(address)
            return self._connection

    def own_host(self) -> Host | None:
        """This host when the page shows one of its ports (so the user's hands can act), else None."""
        if self.host is None:
            return None
        try:
            port = int(self.address().rsplit(":", 1)[1])
        except (OsirixTasksError, ValueError, IndexError):
            return None
        return self.host if port in self.host.ports() else None

    def hand(self, request: Request, what: str) -> Reply:
        """Carry out a user's action (a control request of :mod:`osirix_tasks.host.hands`) on this host;
        OsirixTasksError with the host's message when it refuses, or saying where to do ``what`` when
        the page shows another OsiriX."""
        host = self.own_host()
        if host is None:
            raise OsirixTasksError(
                f"{what} is done in OsiriX's own window when the page shows another OsiriX - do it there"
            )
        reply = host.request(request)
        if not reply.ok:
            raise OsirixTasksError(reply.message)
        return reply

    def catalog(self) -> Catalog:
        """Every task of the registry (rebuilt only when something it is made of changed); none of the
        registry's own while ``tasks validate`` rejects it (its problems say why)."""
        return self.catalogs.get(self.registry, offer_invalid=False)

    def store(self) -> RunStore:
        """The run store, one connection per thread (routes run on a thread pool)."""
        from ..run.store import RunStore

        store: RunStore | None = getattr(self._local, "store", None)
        if store is None:
            store = RunStore(self.store_path)
            self._local.store = store
        return store

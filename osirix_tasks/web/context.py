"""What every route of the page shares: the host, the registry, the OsiriX it reads, the run store."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog import Catalog, build_catalog
from ..errors import NoServer
from ..host.hands import HostSide
from ..registry import load_registry
from ..run.service import RunService
from .imports import ImportWatch
from .osirix import OsirixReader
from .streams import StreamLimit
from .tickets import TicketBook
from .uploads import Uploads

if TYPE_CHECKING:
    from ..host.process import Host
    from ..run.store import RunStore

__all__ = ["WebContext"]


@dataclass
class WebContext:
    """The page's view of the world. ``host`` is None when the page shows a remote OsiriX only."""

    host: Host | None
    registry: Path
    explicit_target: str | None = None
    #: Single-use tickets for the event streams (see :mod:`.tickets`).
    tickets: TicketBook = field(default_factory=TicketBook)
    #: The event streams open at once, and for how long each (see :mod:`.streams`).
    streams: StreamLimit = field(default_factory=StreamLimit)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _home_port: int | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.reader = OsirixReader(self.target)
        self.host_side = HostSide(self.host, self.target)
        self.imports = ImportWatch(Uploads())

    def target(self) -> str:
        """The OsiriX the page reads and tasks act on: the chosen address, else this host's first port."""
        if self.explicit_target:
            return self.explicit_target
        if self.host is not None:
            ports = self.host.ports()
            if ports:
                if self._home_port not in ports:  # the first port seen stays the page's while it is served
                    self._home_port = ports[0]
                return f"127.0.0.1:{self._home_port}"
        raise NoServer(
            "this host serves no OsiriXgrpc port now - start one in Server Configuration, then reload the view"
        )

    def run_service(self) -> RunService | None:
        """The host's own run service (None when the page shows a remote OsiriX without a host of ours)."""
        return self.host.runs.service if self.host is not None else None

    def set_target(self, address: str | None) -> None:
        """Read another OsiriX (a real one, or another port); None goes back to this host's own."""
        self.explicit_target = address or None

    def catalog(self) -> Catalog:
        """Every task, from the registry file as it is now."""
        return build_catalog(load_registry(self.registry))

    def store(self) -> RunStore:
        """The run store, one connection per thread (routes run on a thread pool)."""
        from ..run.store import RunStore

        store: RunStore | None = getattr(self._local, "store", None)
        if store is None:
            store = RunStore()
            self._local.store = store
        return store
